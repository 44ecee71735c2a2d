using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// A trained tabular GAN: <see cref="Sample"/> makes synthetic rows with the learned columns' names and
/// types. <see cref="Save"/> and <see cref="Load"/> keep it in a file (the generator's weights and the
/// columns' encoding), to sample again later without the training table. Decoding a row (mode-specific
/// normalisation, categories) happens in this library, so loading needs it.
/// </summary>
public sealed class TabularGanModel
{
    private static readonly byte[] Magic = "MLDXTGAN"u8.ToArray();
    private const int FormatVersion = 1;
    private readonly TableLayout _layout;
    private readonly int _noiseSize;
    private readonly int _hiddenSize;
    private readonly IReadOnlyList<string> _schemaOrder;

    internal TabularGanModel(nn.Module<Tensor, Tensor> generator, TableLayout layout, TabularGanOptions options, IReadOnlyList<string> schemaOrder, TrainingHistory history)
        : this(generator, layout, options.NoiseSize, options.HiddenSize, schemaOrder, history)
    {
    }

    private TabularGanModel(nn.Module<Tensor, Tensor> generator, TableLayout layout, int noiseSize, int hiddenSize, IReadOnlyList<string> schemaOrder, TrainingHistory history)
    {
        GeneratorNetwork = generator;
        _layout = layout;
        _noiseSize = noiseSize;
        _hiddenSize = hiddenSize;
        _schemaOrder = schemaOrder;
        History = history;
    }

    /// <summary>The generator network (TorchSharp).</summary>
    public nn.Module<Tensor, Tensor> GeneratorNetwork { get; }

    /// <summary>The discriminator and generator losses per epoch.</summary>
    public TrainingHistory History { get; }

    /// <summary>
    /// <paramref name="count"/> synthetic rows: the learned columns in the input's order and types
    /// (Single; String; key with the input's key values). Each row is conditioned on a category drawn
    /// with the training data's frequencies, so categories appear about as often as in the data.
    /// The same seed gives the same rows.
    /// </summary>
    public IDataView Sample(int count, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = new Random(seed);
        float[] raw;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            GeneratorNetwork.eval();
            using var noiseRandom = new TorchSharp.torch.Generator((ulong)seed);
            var noise = randn([count, _noiseSize], generator: noiseRandom);
            var condition = new float[count * _layout.ConditionWidth];
            for (int i = 0; i < count && _layout.Categorical.Count > 0; i++)
            {
                int c = random.Next(_layout.Categorical.Count);
                var (column, _, conditionOffset) = _layout.Categorical[c];
                condition[(i * _layout.ConditionWidth) + conditionOffset + ConditionSampler.Draw(column.Frequencies, random)] = 1;
            }

            var device = GeneratorNetwork.parameters().First().device;
            var input = cat([noise, tensor(condition, [count, _layout.ConditionWidth])], 1).to(device);
            raw = GeneratorNetwork.forward(input).cpu().contiguous().data<float>().ToArray();
        }

        var columns = new List<(string Name, DataViewType Type, object Values)>();
        var keyValues = new Dictionary<string, string[]>(StringComparer.Ordinal);
        int width = _layout.DataWidth;
        foreach (var (column, offset) in _layout.Segments.OrderBy(s => IndexOf(s.Column.Name)))
        {
            if (column is NumericColumn numeric)
            {
                var values = new float[count];
                var segment = new float[numeric.Width];
                for (int i = 0; i < count; i++)
                {
                    // The generator's offset output goes through tanh, as in training; the mode is its arg max.
                    raw.AsSpan((i * width) + offset, numeric.Width).CopyTo(segment);
                    segment[0] = MathF.Tanh(segment[0]);
                    values[i] = numeric.Decode(segment);
                }

                columns.Add((column.Name, NumberDataViewType.Single, values));
            }
            else
            {
                var categorical = (CategoricalColumn)column;
                var picks = Enumerable.Range(0, count).Select(i => NumericColumn.ArgMax(raw.AsSpan((i * width) + offset, categorical.Width))).ToArray();
                if (categorical.Key is { } key)
                {
                    columns.Add((column.Name, key, picks.Select(p => (uint)(p + 1)).ToArray()));
                    keyValues[column.Name] = categorical.Categories;
                }
                else
                {
                    columns.Add((column.Name, TextDataViewType.Instance, picks.Select(p => categorical.Categories[p]).ToArray()));
                }
            }
        }

        return new InMemoryTable(columns, keyValues);
    }

    /// <summary>Writes the model (generator weights, column encoding, history) to <paramref name="path"/>, replacing the file.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var description = new SavedModel
        {
            NoiseSize = _noiseSize,
            HiddenSize = _hiddenSize,
            SchemaOrder = [.. _schemaOrder],
            Columns = [.. _layout.Columns.Select(c => c switch
            {
                NumericColumn n => new SavedColumn { Name = n.Name, Means = n.Means, Deviations = n.Deviations },
                CategoricalColumn k => new SavedColumn { Name = k.Name, Categories = k.Categories, Frequencies = k.Frequencies, KeyCount = k.Key is { } key ? (long)key.Count : null },
                _ => throw new InvalidOperationException($"Unknown column kind {c.GetType().Name}."),
            })],
            History = [.. History.Epochs.Select(e => new Dictionary<string, double>(e))],
        };
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream, Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(JsonSerializer.Serialize(description, CheckpointFile.JsonOptions));
        TensorDictionaryFormat.Write(writer, GeneratorNetwork.state_dict());
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a saved tabular GAN, or is damaged.</exception>
    public static TabularGanModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException($"'{path}' is not a tabular GAN saved by TabularGanModel.Save.");
            }

            int version = reader.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"'{path}' is a tabular GAN of format version {version}; this library reads version {FormatVersion}.");
            }

            var saved = JsonSerializer.Deserialize<SavedModel>(reader.ReadString(), CheckpointFile.JsonOptions)
                ?? throw new InvalidDataException($"'{path}' has an empty description.");
            var layout = new TableLayout([.. saved.Columns.Select(c => c.Means is not null
                ? (TableColumn)new NumericColumn(c.Name, c.Means, c.Deviations ?? throw new InvalidDataException($"'{path}': column '{c.Name}' has means but no deviations."))
                : new CategoricalColumn(c.Name, c.Categories ?? throw new InvalidDataException($"'{path}': column '{c.Name}' has neither modes nor categories."),
                    c.KeyCount is long count ? new KeyDataViewType(typeof(uint), (ulong)count) : null, c.Frequencies ?? []))]);
            var state = TensorDictionaryFormat.Read(reader);
            var generator = BuildGenerator(saved.NoiseSize, saved.HiddenSize, layout);
            try
            {
                CheckpointFile.LoadModelState(generator, state, path);
            }
            finally
            {
                foreach (var tensor in state.Values)
                {
                    tensor.Dispose();
                }
            }

            generator.eval();
            var history = new TrainingHistory();
            foreach (var logs in saved.History)
            {
                history.Add(new TrainingLogs(logs));
            }

            return new TabularGanModel(generator, layout, saved.NoiseSize, saved.HiddenSize, saved.SchemaOrder, history);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"'{path}' is damaged or not a tabular GAN: {e.Message}", e);
        }
    }

    /// <summary>The generator: noise and condition vector in, a row of the encoded table out.</summary>
    internal static nn.Module<Tensor, Tensor> BuildGenerator(int noiseSize, int hiddenSize, TableLayout layout) => NetworkBuilder.BuildLayers(
        [Layer.Dense(hiddenSize), Layer.BatchNorm(), Layer.Relu(), Layer.Dense(hiddenSize), Layer.BatchNorm(), Layer.Relu(), Layer.Dense(layout.DataWidth)],
        [noiseSize + layout.ConditionWidth], out _);

    private sealed class SavedModel
    {
        public int NoiseSize { get; set; }

        public int HiddenSize { get; set; }

        public List<string> SchemaOrder { get; set; } = [];

        public List<SavedColumn> Columns { get; set; } = [];

        public List<Dictionary<string, double>> History { get; set; } = [];
    }

    private sealed class SavedColumn
    {
        public string Name { get; set; } = "";

        public double[]? Means { get; set; }

        public double[]? Deviations { get; set; }

        public string[]? Categories { get; set; }

        public double[]? Frequencies { get; set; }

        public long? KeyCount { get; set; }
    }

    private int IndexOf(string name)
    {
        int index = -1;
        for (int i = 0; i < _schemaOrder.Count; i++)
        {
            if (_schemaOrder[i] == name)
            {
                index = i;
            }
        }

        return index;
    }
}
