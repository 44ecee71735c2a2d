using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>A trained tabular GAN: <see cref="Sample"/> makes synthetic rows with the learned columns' names and types.</summary>
public sealed class TabularGanModel
{
    private readonly TableLayout _layout;
    private readonly TabularGanOptions _options;
    private readonly IReadOnlyList<string> _schemaOrder;

    internal TabularGanModel(nn.Module<Tensor, Tensor> generator, TableLayout layout, TabularGanOptions options, IReadOnlyList<string> schemaOrder, TrainingHistory history)
    {
        GeneratorNetwork = generator;
        _layout = layout;
        _options = options;
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
            var noise = randn([count, _options.NoiseSize], generator: noiseRandom);
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
