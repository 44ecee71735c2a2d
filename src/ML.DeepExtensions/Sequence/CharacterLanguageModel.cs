using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// A fitted character-level language model. It measures text (<see cref="BitsPerCharacter"/>), generates
/// text (<see cref="Generate"/>), and, as an ML.NET transformer, maps a context column (the characters so
/// far) to <c>Score</c>, the probabilities of the next character over <see cref="Vocabulary"/>, and
/// <c>PredictedLabel</c>, the most likely one, so ML.NET's multiclass evaluator applies.
/// </summary>
/// <remarks>
/// <para>Bits per character two ways, the same number: <see cref="BitsPerCharacter"/> runs the trained
/// network over whole texts at once; or, with ML.NET's evaluator,
/// <code>
/// var rows = model.CreateNextCharacterData(heldOut);              // the text so far, Label (one row per character)
/// var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(rows));
/// double bitsPerCharacter = metrics.LogLoss / Math.Log(2);
/// </code>
/// which scores each row's context from the text's start (cost grows with the context: for small
/// held-out sets and checks). Each text is modelled on its own from the zero state; the end of every
/// text is one more predicted symbol, so a text of n characters counts n + 1.</para>
/// <para>Saving: <c>mlContext.Model.Save(model, ...)</c> writes ML.NET's own transformers (character keys,
/// OnnxTransformer, scorer), which load and score without this library; <see cref="SaveGenerator"/>
/// writes the per-step ONNX graph with the vocabulary in its metadata, which
/// <see cref="CharacterGenerator.Load"/> (or any ONNX Runtime program) generates from.</para>
/// </remarks>
public sealed class CharacterLanguageModel : ITransformer, IDisposable, ISavedAsChain
{
    private readonly CharacterNetwork _network;
    private readonly CharacterVocabulary _vocabulary;
    private readonly Device _device;
    private readonly OnnxScoring _scoring;
    private readonly ITransformer _chain;
    private readonly byte[] _stepGraph;
    private readonly CharacterGenerator _generator;
    private readonly MLContext _context = new(seed: 0);

    internal CharacterLanguageModel(CharacterNetwork network, CharacterVocabulary vocabulary, CharacterLanguageModelOptions options, TrainingHistory history, Device device)
    {
        _network = network;
        _vocabulary = vocabulary;
        _device = device;
        Options = options;
        History = history;
        network.eval();
        var stepGraph = CharacterNetworkExport.StepGraph(network);
        stepGraph.AddMetadata("ml_deepextensions.component", "CharacterLanguageModel");
        stepGraph.AddMetadata(CharacterVocabulary.MetadataKey, vocabulary.ToJson());
        _stepGraph = stepGraph.ToBytes();
        _generator = new CharacterGenerator(_stepGraph, "the fitted model");
        (_scoring, _chain) = BuildScoringChain();
    }

    /// <summary>The options the model was trained with.</summary>
    public CharacterLanguageModelOptions Options { get; }

    /// <summary>The training history (per epoch: <c>loss</c> in nats per character, <c>bits_per_character</c>, and their <c>val_</c> forms).</summary>
    public TrainingHistory History { get; }

    /// <summary>The vocabulary in id order (the slots of <c>Score</c>): "&lt;unk&gt;" (any character not in it), "&lt;end&gt;" (the end of a text), then the characters.</summary>
    public IReadOnlyList<string> Vocabulary => _vocabulary.Names;

    /// <summary>The per-step ONNX graph: <c>CharacterId</c> int64 [N], <c>Hidden</c> (and for an LSTM <c>Cell</c>) float [layers, N, units] in; <c>Logits</c> [N, V], <c>HiddenOut</c> (and <c>CellOut</c>) out.</summary>
    public ReadOnlySpan<byte> StepOnnxModel => _stepGraph;

    /// <inheritdoc />
    public bool IsRowToRowMapper => _chain.IsRowToRowMapper;

    /// <summary>Bits per character of the texts in a column (by default the training column's name): −log₂ of the probability of each character and of each text's end, averaged.</summary>
    /// <exception cref="ArgumentException">The column is missing or not Text.</exception>
    public double BitsPerCharacter(IDataView data, string? textColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (nats, count) = CharacterLanguageModelTrainer.Score(_network, _vocabulary, data, textColumnName ?? Options.TextColumnName, Options.BatchSize, _device);
        return count == 0 ? double.NaN : nats / count / Math.Log(2);
    }

    /// <summary>
    /// Continues <paramref name="prompt"/> by up to <paramref name="length"/> characters, sampled one at a
    /// time (see <see cref="CharacterGenerator.Generate"/>). Returns the continuation only.
    /// </summary>
    public string Generate(string prompt, int length, GenerationOptions? options = null) => _generator.Generate(prompt, length, options);

    /// <summary>Writes the per-step ONNX graph (with the vocabulary in its metadata) for <see cref="CharacterGenerator.Load"/> or any ONNX Runtime program.</summary>
    public void SaveGenerator(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllBytes(path, _stepGraph);
    }

    /// <summary>
    /// One row per predicted symbol of each text: the context (the text's characters before it, under
    /// <see cref="CharacterLanguageModelOptions.ContextColumn"/>) and <c>Label</c>, a key over
    /// <see cref="Vocabulary"/> (a character outside it is "&lt;unk&gt;"; after the last character, "&lt;end&gt;").
    /// Rows are produced as they are read.
    /// </summary>
    public IDataView CreateNextCharacterData(IDataView texts, string? textColumnName = null, string labelColumnName = ColumnNames.Label)
    {
        ArgumentNullException.ThrowIfNull(texts);
        string column = textColumnName ?? Options.TextColumnName;
        _ = CharacterVocabulary.ReadTexts(texts, column);
        var rows = new NextCharacterRows(texts, column, _vocabulary);
        var definition = SchemaDefinition.Create(typeof(NextCharacterRow));
        definition[nameof(NextCharacterRow.Context)].ColumnName = Options.ContextColumn;
        var data = _context.Data.LoadFromEnumerable(rows, definition);
        var keyData = _context.Data.LoadFromEnumerable(_vocabulary.Names.Select(n => new NameRow { Name = n }));
        var label = _context.Transforms.Conversion.MapValueToKey(labelColumnName, nameof(NextCharacterRow.NextCharacter), keyData: keyData)
            .Append(_context.Transforms.DropColumns(nameof(NextCharacterRow.NextCharacter)));
        return label.Fit(data).Transform(data);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _chain.GetOutputSchema(CheckContext(inputSchema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _chain.GetRowToRowMapper(CheckContext(inputSchema));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The context column is missing or not Text.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckContext(input.Schema);
        return _chain.Transform(input);
    }

    /// <summary>Saves the scoring chain (ML.NET's own transformers only).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_chain).Save(ctx);

    ITransformer ISavedAsChain.SavedTransformer => _chain;

    /// <summary>Frees the network, the generator's and the scoring chain's ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        _generator.Dispose();
        _scoring.Dispose();
        _network.Dispose();
    }

    private DataViewSchema CheckContext(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var column = SchemaChecks.Find(schema, Options.ContextColumn, "context");
        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentException($"The context column '{Options.ContextColumn}' is {column.Type}, but the language model scores a scalar Text column (the characters before the one to predict).", nameof(schema));
        }

        return schema;
    }

    /// <summary>ML.NET's character keys of the context (the character code), the context graph through OnnxTransformer, ML.NET's multiclass scorer.</summary>
    private (OnnxScoring Scoring, ITransformer Chain) BuildScoringChain()
    {
        string context = Options.ContextColumn;
        string characters = $"{context}.characters";
        const string logits = "Logits";
        var graph = CharacterNetworkExport.ContextGraph(_network, _vocabulary.CodeToId(), CharacterVocabulary.EndOfTextId, $"{characters}.keys", logits);
        graph.AddMetadata("ml_deepextensions.component", "CharacterLanguageModel");
        graph.AddMetadata(CharacterVocabulary.MetadataKey, _vocabulary.ToJson());
        var definition = SchemaDefinition.Create(typeof(NextCharacterRow));
        definition[nameof(NextCharacterRow.Context)].ColumnName = context;
        var names = _vocabulary.Names;
        // A label key over the vocabulary in the schema the scorer is built on gives PredictedLabel its key
        // values (the characters); scoring does not need the column.
        var keyData = _context.Data.LoadFromEnumerable(names.Select(n => new NameRow { Name = n }));
        var unlabelled = _context.Data.LoadFromEnumerable([new NextCharacterRow { NextCharacter = CharacterVocabulary.EndOfTextName }], definition);
        var sample = _context.Transforms.Conversion.MapValueToKey(ColumnNames.Label, nameof(NextCharacterRow.NextCharacter), keyData: keyData).Fit(unlabelled).Transform(unlabelled);
        var tokenize = _context.Transforms.Text.TokenizeIntoCharactersAsKeys(characters, context, useMarkerCharacters: false).Fit(sample);
        var tokenized = tokenize.Transform(sample);
        var environment = CatalogEnvironment.From(_context.MulticlassClassification.Trainers);
        var scoring = OnnxScoringChain.Build(graph.ToBytes(), [OnnxInput.KeyValues(characters)], [logits], tokenized,
            scored => MLNetScorers.Multiclass(environment, scored.Schema, logits, names.Length, ColumnNames.Label, names), dropAfterScoring: [logits]);
        var scored = scoring.Transformer.Transform(tokenized);
        var drop = _context.Transforms.DropColumns(characters).Fit(scored);
        return (scoring, new TransformerChain<ITransformer>(tokenize, scoring.Transformer, drop));
    }

    private sealed class NextCharacterRow
    {
        public string Context { get; set; } = "";

        public string NextCharacter { get; set; } = "";
    }

    private sealed class NameRow
    {
        public string Name { get; set; } = "";
    }

    /// <summary>The next-character rows of every text, enumerated afresh for each cursor.</summary>
    private sealed class NextCharacterRows(IDataView texts, string column, CharacterVocabulary vocabulary) : IEnumerable<NextCharacterRow>
    {
        public IEnumerator<NextCharacterRow> GetEnumerator()
        {
            foreach (var memory in CharacterVocabulary.ReadTexts(texts, column))
            {
                string text = memory.ToString();
                for (int i = 0; i <= text.Length; i++)
                {
                    string next = i == text.Length ? CharacterVocabulary.EndOfTextName
                        : vocabulary.Contains(text[i]) ? text[i].ToString() : CharacterVocabulary.UnknownName;
                    yield return new NextCharacterRow { Context = text[..i], NextCharacter = next };
                }
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
