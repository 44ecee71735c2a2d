using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Generative;

/// <summary>One column of a table as the tabular GAN reads and writes it.</summary>
internal abstract class TableColumn(string name)
{
    public string Name { get; } = name;

    /// <summary>Width of the column's segment of the encoded row.</summary>
    public abstract int Width { get; }
}

/// <summary>
/// A numeric column, normalised mode-specifically (CTGAN): a Gaussian mixture fitted by EM; a value
/// becomes a mode (one-hot, sampled from its posterior) and its offset within that mode,
/// (x − μ)/(4σ) clipped to (−1, 1).
/// </summary>
internal sealed class NumericColumn(string name, double[] means, double[] deviations) : TableColumn(name)
{
    public double[] Means { get; } = means;

    public double[] Deviations { get; } = deviations;

    public override int Width => 1 + Means.Length;

    public static NumericColumn Fit(string name, float[] values, int maxModes, Random random)
    {
        var sorted = values.Select(v => (double)v).Order().ToArray();
        int k = Math.Max(1, Math.Min(maxModes, sorted.Distinct().Count()));
        double spread = Math.Max(1e-6, sorted[^1] - sorted[0]);
        var means = Enumerable.Range(0, k).Select(i => sorted[(int)((i + 0.5) * sorted.Length / k)]).ToArray();
        var deviations = Enumerable.Repeat(spread / k, k).ToArray();
        var weights = Enumerable.Repeat(1.0 / k, k).ToArray();
        var responsibility = new double[k];
        for (int iteration = 0; iteration < 100; iteration++)
        {
            var sumR = new double[k];
            var sumX = new double[k];
            var sumXX = new double[k];
            foreach (double x in sorted)
            {
                Posterior(x, means, deviations, weights, responsibility);
                for (int j = 0; j < k; j++)
                {
                    sumR[j] += responsibility[j];
                    sumX[j] += responsibility[j] * x;
                    sumXX[j] += responsibility[j] * x * x;
                }
            }

            for (int j = 0; j < k; j++)
            {
                weights[j] = sumR[j] / sorted.Length;
                if (sumR[j] > 1e-9)
                {
                    means[j] = sumX[j] / sumR[j];
                    deviations[j] = Math.Sqrt(Math.Max((sumXX[j] / sumR[j]) - (means[j] * means[j]), 0)) + (1e-3 * spread);
                }
            }
        }

        var kept = Enumerable.Range(0, k).Where(j => weights[j] >= 0.005).ToArray();
        return new NumericColumn(name, [.. kept.Select(j => means[j])], [.. kept.Select(j => deviations[j])]);
    }

    public void Encode(float value, Random random, Span<float> target)
    {
        var posterior = new double[Means.Length];
        Posterior(value, Means, Deviations, Enumerable.Repeat(1.0 / Means.Length, Means.Length).ToArray(), posterior);
        double u = random.NextDouble();
        int mode = 0;
        for (double cumulative = posterior[0]; mode < Means.Length - 1 && u > cumulative; cumulative += posterior[++mode])
        {
        }

        target.Clear();
        target[0] = (float)Math.Clamp((value - Means[mode]) / (4 * Deviations[mode]), -0.99, 0.99);
        target[1 + mode] = 1;
    }

    public float Decode(ReadOnlySpan<float> segment)
    {
        int mode = ArgMax(segment[1..]);
        return (float)((Math.Clamp(segment[0], -1f, 1f) * 4 * Deviations[mode]) + Means[mode]);
    }

    private static void Posterior(double x, double[] means, double[] deviations, double[] weights, double[] target)
    {
        double total = 0;
        double best = double.NegativeInfinity;
        for (int j = 0; j < means.Length; j++)
        {
            double z = (x - means[j]) / deviations[j];
            target[j] = Math.Log(weights[j] + 1e-12) - Math.Log(deviations[j]) - (0.5 * z * z);
            best = Math.Max(best, target[j]);
        }

        for (int j = 0; j < means.Length; j++)
        {
            target[j] = Math.Exp(target[j] - best);
            total += target[j];
        }

        for (int j = 0; j < means.Length; j++)
        {
            target[j] /= total;
        }
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>A categorical column: String, or a key (whose count and values are kept for the output).</summary>
internal sealed class CategoricalColumn(string name, string[] categories, KeyDataViewType? key, double[] frequencies) : TableColumn(name)
{
    public string[] Categories { get; } = categories;

    /// <summary>The key type when the column was a key, else null (a String column).</summary>
    public KeyDataViewType? Key { get; } = key;

    /// <summary>Share of the training rows in each category.</summary>
    public double[] Frequencies { get; } = frequencies;

    public override int Width => Categories.Length;
}

/// <summary>Reads a table into the columns and their per-row values.</summary>
internal static class TableReader
{
    public static (List<TableColumn> Columns, float[][] Numbers, int[][] Categories, int Rows) Read(IDataView data, TabularGanOptions options)
    {
        var schema = data.Schema;
        IEnumerable<string> numericNames = options.NumericColumns ?? (options.CategoricalColumns is null
            ? schema.Where(c => !c.IsHidden && c.Type == NumberDataViewType.Single).Select(c => c.Name) : []);
        IEnumerable<string> categoricalNames = options.CategoricalColumns ?? (options.NumericColumns is null
            ? schema.Where(c => !c.IsHidden && (c.Type is TextDataViewType or KeyDataViewType)).Select(c => c.Name) : []);
        var numeric = numericNames.Select(n => SchemaChecks.Find(schema, n, "numeric")).ToList();
        var categorical = categoricalNames.Select(n => SchemaChecks.Find(schema, n, "categorical")).ToList();
        if (numeric.Count + categorical.Count == 0)
        {
            throw new ArgumentException("The table has no Single, String or key column to learn; name them with NumericColumns and CategoricalColumns.", nameof(data));
        }

        foreach (var column in numeric.Where(c => c.Type != NumberDataViewType.Single))
        {
            throw new ArgumentException(
                $"The numeric column '{column.Name}' is {column.Type}; the tabular GAN reads Single scalars. Convert it with mlContext.Transforms.Conversion.ConvertType(\"{column.Name}\", outputKind: DataKind.Single).", nameof(data));
        }

        foreach (var column in categorical.Where(c => c.Type is not (TextDataViewType or KeyDataViewType)))
        {
            throw new ArgumentException($"The categorical column '{column.Name}' is {column.Type}; the tabular GAN reads String or key scalars.", nameof(data));
        }

        var numbers = numeric.Select(_ => new List<float>()).ToList();
        var texts = categorical.Select(_ => new List<string>()).ToList();
        using (var cursor = data.GetRowCursor([.. numeric, .. categorical]))
        {
            var numberGetters = numeric.Select(c => cursor.GetGetter<float>(c)).ToList();
            var textGetters = categorical.Select(c => TextGetter(cursor, c)).ToList();
            long row = 0;
            while (cursor.MoveNext())
            {
                for (int i = 0; i < numeric.Count; i++)
                {
                    float value = 0;
                    numberGetters[i](ref value);
                    if (!float.IsFinite(value))
                    {
                        throw new DataValidationException($"The numeric column '{numeric[i].Name}' holds {value} in row {row}; the tabular GAN needs finite values (filter or replace missing values first).");
                    }

                    numbers[i].Add(value);
                }

                for (int i = 0; i < categorical.Count; i++)
                {
                    texts[i].Add(textGetters[i]());
                }

                row++;
            }
        }

        int rows = numeric.Count > 0 ? numbers[0].Count : texts[0].Count;
        if (rows < 2)
        {
            throw new ArgumentException($"The table has {rows} row(s); the tabular GAN needs at least two.", nameof(data));
        }

        var random = new Random(options.Seed ?? 0);
        var columns = new List<TableColumn>();
        columns.AddRange(numeric.Select((c, i) => NumericColumn.Fit(c.Name, [.. numbers[i]], options.ModesPerColumn, random)));
        var categoryIndices = new int[categorical.Count][];
        for (int i = 0; i < categorical.Count; i++)
        {
            string[] categories;
            KeyDataViewType? key = categorical[i].Type as KeyDataViewType;
            if (key is not null)
            {
                var names = KeyValueNames.Read(categorical[i]) ?? [];
                categories = Enumerable.Range(0, (int)key.Count).Select(k => k < names.Length ? names[k] : (k + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            }
            else
            {
                categories = [.. texts[i].Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            }

            var index = categories.Select((c, j) => (c, j)).ToDictionary(p => p.c, p => p.j, StringComparer.Ordinal);
            categoryIndices[i] = texts[i].Select(t => index.TryGetValue(t, out int j) ? j : throw new DataValidationException($"The key column '{categorical[i].Name}' has a missing value; fill it before training.")).ToArray();
            var frequencies = new double[categories.Length];
            foreach (int j in categoryIndices[i])
            {
                frequencies[j] += 1.0 / rows;
            }

            columns.Add(new CategoricalColumn(categorical[i].Name, categories, key, frequencies));
        }

        return (columns, [.. numbers.Select(n => n.ToArray())], categoryIndices, rows);
    }

    private static Func<string> TextGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is KeyDataViewType key)
        {
            var getter = cursor.GetGetter<uint>(column);
            var names = KeyValueNames.Read(column) ?? [];
            return () =>
            {
                uint value = 0;
                getter(ref value);
                return value == 0 ? "\0missing" : value - 1 < names.Length ? names[value - 1] : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            };
        }

        var text = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        return () =>
        {
            ReadOnlyMemory<char> value = default;
            text(ref value);
            return value.ToString();
        };
    }
}
