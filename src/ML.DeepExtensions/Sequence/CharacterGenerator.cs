using System.Text;
using Microsoft.ML.OnnxRuntime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Networks.Sequence;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// Generates text with a character language model's per-step ONNX graph on ONNX Runtime (no TorchSharp):
/// from a fitted <see cref="CharacterLanguageModel"/>, or from a graph saved with
/// <see cref="CharacterLanguageModel.SaveGenerator"/> and opened with <see cref="Load"/>. Thread-safe.
/// </summary>
public sealed class CharacterGenerator : IDisposable
{
    private readonly InferenceSession _session;
    private readonly CharacterVocabulary _vocabulary;
    private readonly int _layers;
    private readonly int _units;
    private readonly bool _hasCell;
    private readonly string[] _outputs;

    internal CharacterGenerator(byte[] stepGraph, string source)
    {
        _session = new InferenceSession(stepGraph);
        try
        {
            var metadata = _session.ModelMetadata.CustomMetadataMap;
            if (!metadata.TryGetValue(CharacterVocabulary.MetadataKey, out var json)
                || !_session.InputMetadata.TryGetValue(CharacterNetworkExport.HiddenInput, out var hidden))
            {
                throw new InvalidDataException(
                    $"{source} is not a character language model's step graph (no '{CharacterVocabulary.MetadataKey}' metadata or no '{CharacterNetworkExport.HiddenInput}' input). Save one with CharacterLanguageModel.SaveGenerator.");
            }

            _vocabulary = CharacterVocabulary.FromJson(json, source);
            _layers = hidden.Dimensions[0];
            _units = hidden.Dimensions[2];
            _hasCell = _session.InputMetadata.ContainsKey(CharacterNetworkExport.CellInput);
            _outputs = _hasCell
                ? [CharacterNetworkExport.LogitsOutput, CharacterNetworkExport.HiddenOutput, CharacterNetworkExport.CellOutput]
                : [CharacterNetworkExport.LogitsOutput, CharacterNetworkExport.HiddenOutput];
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The vocabulary in id order: "&lt;unk&gt;", "&lt;end&gt;", then the characters.</summary>
    public IReadOnlyList<string> Vocabulary => _vocabulary.Names;

    /// <summary>Opens a step graph written by <see cref="CharacterLanguageModel.SaveGenerator"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not such a graph.</exception>
    public static CharacterGenerator Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The generator file '{path}' does not exist.", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return new CharacterGenerator(bytes, $"The file '{path}'");
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"The file '{path}' is not an ONNX model ONNX Runtime can load: {e.Message}", e);
        }
    }

    /// <summary>
    /// Continues <paramref name="prompt"/> by up to <paramref name="length"/> characters and returns the
    /// continuation (without the prompt). The prompt is read after a text start, as training texts are: an
    /// empty prompt starts a new text; a prompt character outside <see cref="Vocabulary"/> is read as the
    /// unknown character. The unknown character is never generated. With
    /// <see cref="GenerationOptions.StopAtEndOfText"/> (the default) generation ends early when the model
    /// ends the text; otherwise the end of text is written as a line break and a new text begins.
    /// </summary>
    /// <param name="prompt">The start of the text; empty for none.</param>
    /// <param name="length">Characters to generate at most; 0 returns an empty string.</param>
    /// <param name="options">Temperature, top-k and seed; null for the defaults (temperature 1, no top-k, seed 0).</param>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative, the temperature is not positive, or top-k is below 1.</exception>
    public string Generate(string prompt, int length, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        options ??= new GenerationOptions();
        options.Validate();
        var random = new SplitMix64(SplitMix64.Mix((ulong)(uint)options.Seed + 0x5DEECE66DUL));
        var state = new State(_layers * _units, _hasCell);
        var logits = Step(CharacterVocabulary.EndOfTextId, state);
        foreach (char c in prompt)
        {
            logits = Step(_vocabulary.Id(c), state);
        }

        var text = new StringBuilder(length);
        while (text.Length < length)
        {
            int id = Sample(logits, options, ref random);
            if (id == CharacterVocabulary.EndOfTextId)
            {
                if (options.StopAtEndOfText)
                {
                    break;
                }

                text.Append('\n');
            }
            else
            {
                text.Append(_vocabulary.Characters[id - 2]);
            }

            logits = Step(id, state);
        }

        return text.ToString();
    }

    /// <summary>Frees the ONNX Runtime session.</summary>
    public void Dispose() => _session.Dispose();

    /// <summary>Runs one step of the graph from <paramref name="state"/>, which it updates; returns the logits.</summary>
    private float[] Step(int id, State state)
    {
        long[] stateShape = [_layers, 1, _units];
        using var character = OrtValue.CreateTensorValueFromMemory(new long[] { id }, [1]);
        using var hidden = OrtValue.CreateTensorValueFromMemory(state.Hidden, stateShape);
        using var cell = _hasCell ? OrtValue.CreateTensorValueFromMemory(state.Cell!, stateShape) : null;
        string[] names = _hasCell
            ? [CharacterNetworkExport.CharacterIdInput, CharacterNetworkExport.HiddenInput, CharacterNetworkExport.CellInput]
            : [CharacterNetworkExport.CharacterIdInput, CharacterNetworkExport.HiddenInput];
        OrtValue[] inputs = _hasCell ? [character, hidden, cell!] : [character, hidden];
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, names, inputs, _outputs);
        results[1].GetTensorDataAsSpan<float>().CopyTo(state.Hidden);
        if (_hasCell)
        {
            results[2].GetTensorDataAsSpan<float>().CopyTo(state.Cell);
        }

        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Softmax of logits / temperature over the top-k ids (ties to the lower id), never the unknown id; one uniform draw.</summary>
    private static int Sample(float[] logits, GenerationOptions options, ref SplitMix64 random)
    {
        var candidates = Enumerable.Range(0, logits.Length).Where(i => i != CharacterVocabulary.UnknownId)
            .OrderByDescending(i => logits[i]).ThenBy(i => i)
            .Take(options.TopK ?? int.MaxValue).ToArray();
        if (candidates.Length == 1)
        {
            return candidates[0];
        }

        double max = logits[candidates[0]] / options.Temperature;
        var weights = candidates.Select(i => Math.Exp((logits[i] / options.Temperature) - max)).ToArray();
        double u = (random.NextUInt64() >> 11) * (1.0 / (1UL << 53)) * weights.Sum();
        for (int k = 0; k < candidates.Length; k++)
        {
            u -= weights[k];
            if (u < 0)
            {
                return candidates[k];
            }
        }

        return candidates[^1];
    }

    private sealed class State(int size, bool hasCell)
    {
        public float[] Hidden { get; } = new float[size];

        public float[]? Cell { get; } = hasCell ? new float[size] : null;
    }
}
