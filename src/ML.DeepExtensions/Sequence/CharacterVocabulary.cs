using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// The character vocabulary of a language model: id 0 is the unknown character, id 1 the end of a
/// text (also the first input of every text), ids 2 and up the characters in ordinal order.
/// </summary>
internal sealed class CharacterVocabulary
{
    public const int UnknownId = 0;
    public const int EndOfTextId = 1;
    public const string UnknownName = "<unk>";
    public const string EndOfTextName = "<end>";
    public const string MetadataKey = "ml_deepextensions.vocabulary";

    private readonly int[] _idOfCode;

    public CharacterVocabulary(string characters)
    {
        Characters = characters;
        _idOfCode = new int[characters.Length == 0 ? 1 : characters.Max() + 1];
        for (int i = 0; i < characters.Length; i++)
        {
            _idOfCode[characters[i]] = i + 2;
        }
    }

    /// <summary>The known characters, id 2 first.</summary>
    public string Characters { get; }

    public int Count => Characters.Length + 2;

    /// <summary>Each id's name: "&lt;unk&gt;", "&lt;end&gt;", then each character as a one-character string.</summary>
    public string[] Names => [UnknownName, EndOfTextName, .. Characters.Select(c => c.ToString())];

    public int Id(char c) => c < _idOfCode.Length ? _idOfCode[c] : UnknownId;

    public bool Contains(char c) => Id(c) != UnknownId;

    /// <summary>The model's steps of a text: end of text (the start), its characters, end of text.</summary>
    public ushort[] Steps(ReadOnlySpan<char> text)
    {
        var steps = new ushort[text.Length + 2];
        steps[0] = EndOfTextId;
        for (int i = 0; i < text.Length; i++)
        {
            steps[i + 1] = (ushort)Id(text[i]);
        }

        steps[^1] = EndOfTextId;
        return steps;
    }

    /// <summary>For the ONNX context graph: the id of each character code, one more entry (the unknown id) for every code beyond.</summary>
    public long[] CodeToId()
    {
        var table = new long[_idOfCode.Length + 1];
        for (int i = 0; i < _idOfCode.Length; i++)
        {
            table[i] = _idOfCode[i];
        }

        return table;
    }

    public string ToJson() => JsonSerializer.Serialize(Characters);

    public static CharacterVocabulary FromJson(string json, string source) =>
        new(JsonSerializer.Deserialize<string>(json) ?? throw new InvalidDataException($"{source} holds no character vocabulary under '{MetadataKey}'."));

    /// <summary>Counts the characters of the text column in one pass; those seen at least <paramref name="minCount"/> times form the vocabulary.</summary>
    public static (CharacterVocabulary Vocabulary, long Texts, long Characters) FromText(IDataView data, string column, int minCount)
    {
        var counts = new long[char.MaxValue + 1];
        long texts = 0, characters = 0;
        foreach (var text in ReadTexts(data, column))
        {
            texts++;
            characters += text.Length;
            foreach (char c in text.Span)
            {
                counts[c]++;
            }
        }

        if (texts == 0)
        {
            throw new ArgumentException($"The text column '{column}' has no rows: a language model needs training text.", nameof(data));
        }

        var known = string.Concat(Enumerable.Range(0, counts.Length).Where(c => counts[c] >= minCount).Select(c => (char)c));
        if (known.Length == 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The text column '{column}' ({texts} rows, {characters} characters) has no character that occurs at least MinCharacterCount = {minCount} times, so the vocabulary would hold only the unknown character. Use more text or a lower MinCharacterCount."),
                nameof(data));
        }

        return (new CharacterVocabulary(known), texts, characters);
    }

    /// <summary>The texts of a scalar Text column, streamed by a cursor (a missing text reads as empty).</summary>
    public static IEnumerable<ReadOnlyMemory<char>> ReadTexts(IDataView data, string column)
    {
        var found = SchemaChecks.Find(data.Schema, column, "text");
        if (found.Type is not TextDataViewType)
        {
            throw new ArgumentException($"The text column '{column}' is {found.Type}, but the language model needs a scalar Text (string) column.", nameof(data));
        }

        return Read(data, found);

        static IEnumerable<ReadOnlyMemory<char>> Read(IDataView data, DataViewSchema.Column found)
        {
            using var cursor = data.GetRowCursor([found]);
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(found);
            var value = default(ReadOnlyMemory<char>);
            while (cursor.MoveNext())
            {
                getter(ref value);
                yield return value;
            }
        }
    }
}
