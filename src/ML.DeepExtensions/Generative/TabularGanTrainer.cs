using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// A GAN for synthetic rows of an ordinary table, after CTGAN (Xu et al. 2019): numeric columns are
/// normalised mode-specifically (a Gaussian mixture per column; a value becomes its mode and its
/// offset within it), categorical columns one-hot; the generator is conditioned on one category per
/// row, chosen by log-frequency, and the discriminator sees real rows of that category
/// (training-by-sampling), so rare categories are learned too. Differences from the published model:
/// the loss is the non-saturating one (not WGAN-GP with PacGAN), the mixture is fitted by EM (not a
/// variational one), and the networks are plain two-layer MLPs. Both networks and optimizers share one
/// <see cref="TrainingRun"/> (seeded, checkpointed, resumable at epoch boundaries).
/// </summary>
public sealed class TabularGanTrainer
{
    private const string ComponentName = "TabularGan";
    private readonly IHostEnvironment _environment;

    internal TabularGanTrainer(IHostEnvironment environment, TabularGanOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        OptionChecks.Require(options.Checkpoints is not { EverySteps: > 0 }, "Checkpoints.EverySteps", options.Checkpoints?.EverySteps ?? 0, "must be 0: the tabular GAN checkpoints at epoch ends");
        _environment = environment;
        Options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public TabularGanOptions Options { get; }

    /// <summary>Learns the table's columns (<see cref="TabularGanOptions.NumericColumns"/>, <see cref="TabularGanOptions.CategoricalColumns"/>).</summary>
    /// <exception cref="ArgumentException">A column is missing or of a type the GAN does not read, or the table has under two rows.</exception>
    /// <exception cref="Data.DataValidationException">A numeric value is not finite, or a key is missing.</exception>
    public TabularGanModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var host = _environment.Register(ComponentName);
        using var channel = host.Start(ComponentName);
        var run = new TrainingRun(Options, defaultSeed: host.Rand.Next(), [new ChannelLogger(channel, ComponentName)]);
        int seed = run.Seed;
        var (columns, numbers, categories, rows) = TableReader.Read(input, Options);
        var encoding = new TableLayout(columns);
        var encoded = new float[rows * encoding.DataWidth];
        var modeRandom = new Random(seed);
        for (int r = 0; r < rows; r++)
        {
            var row = encoded.AsSpan(r * encoding.DataWidth, encoding.DataWidth);
            int n = 0, c = 0;
            foreach (var (column, offset) in encoding.Segments)
            {
                if (column is NumericColumn numeric)
                {
                    numeric.Encode(numbers[n++][r], modeRandom, row.Slice(offset, numeric.Width));
                }
                else
                {
                    row[offset + categories[c++][r]] = 1;
                }
            }
        }

        TrainingRun.SeedForInitialisation(seed);
        var generator = run.AddModule("generator", TabularGanModel.BuildGenerator(Options.NoiseSize, Options.HiddenSize, encoding));
        var discriminator = run.AddModule("discriminator", NetworkBuilder.BuildLayers(
            [Layer.Dense(Options.HiddenSize), Layer.LeakyRelu(), Layer.Dropout(0.5), Layer.Dense(Options.HiddenSize), Layer.LeakyRelu(), Layer.Dropout(0.5), Layer.Dense(1)],
            [encoding.DataWidth + encoding.ConditionWidth], out _));
        var discriminatorOptimizer = run.CreateOptimizer("discriminator", discriminator, Options.Optimizer, Options.LearningRateSchedule);
        var generatorOptimizer = run.CreateOptimizer("generator", generator, Options.GeneratorOptimizer);
        run.RecordSetting("tabular_gan.columns", string.Join(", ", columns.Select(c => $"{c.Name}:{c.Width}")));
        run.RecordSetting("tabular_gan.batch", Options.BatchSize.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("tabular_gan.noise", Options.NoiseSize.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("tabular_gan.hidden", Options.HiddenSize.ToString(CultureInfo.InvariantCulture));

        var device = run.Device;
        using var data = tensor(encoded, [rows, encoding.DataWidth]).to(device);
        var sampler = new ConditionSampler(encoding, categories, rows);
        int batch = Math.Min(Options.BatchSize, rows);
        run.StepsPerEpoch = Math.Max(1, rows / batch);
        run.Start();
        while (!run.ShouldStop)
        {
            run.BeginEpoch();
            var random = new Random(unchecked((seed * 7919) + run.Epoch));
            double dSum = 0, gSum = 0;
            int steps = 0;
            for (long s = 0; s < run.StepsPerEpoch && !run.StopTraining && !(Options.MaxSteps is long max && run.Step >= max); s++)
            {
                using var scope = NewDisposeScope();
                run.BeginStep();
                var (d, g) = Step(generator, discriminator, discriminatorOptimizer, generatorOptimizer, encoding, sampler, data, batch, random, device);
                run.EndStep(new TrainingLogs { ["d_loss"] = d, ["g_loss"] = g });
                dSum += d;
                gSum += g;
                steps++;
            }

            run.EndEpoch(new TrainingLogs { ["d_loss"] = dSum / Math.Max(1, steps), ["g_loss"] = gSum / Math.Max(1, steps) });
        }

        run.Finish();
        generator.eval();
        var schemaOrder = input.Schema.Select(c => c.Name).ToList();
        return new TabularGanModel(generator, encoding, Options, schemaOrder, run.History);
    }

    private (double Discriminator, double Generator) Step(
        nn.Module<Tensor, Tensor> generator, nn.Module<Tensor, Tensor> discriminator, optim.Optimizer dOptimizer, optim.Optimizer gOptimizer,
        TableLayout encoding, ConditionSampler sampler, Tensor data, int batch, Random random, Device device)
    {
        var (condition, chosen, realRows) = sampler.Sample(batch, random, device);
        var real = data.index_select(0, realRows);
        Tensor fake;
        using (no_grad())
        {
            fake = encoding.Activate(generator.forward(cat([randn(batch, Options.NoiseSize, device: device), condition], 1)), Options.GumbelTemperature).detach();
        }

        var dLoss = nn.functional.softplus(-discriminator.forward(cat([real, condition], 1))).mean()
            + nn.functional.softplus(discriminator.forward(cat([fake, condition], 1))).mean();
        dOptimizer.zero_grad();
        dLoss.backward();
        dOptimizer.step();

        var raw = generator.forward(cat([randn(batch, Options.NoiseSize, device: device), condition], 1));
        var generated = encoding.Activate(raw, Options.GumbelTemperature);
        var gLoss = nn.functional.softplus(-discriminator.forward(cat([generated, condition], 1))).mean();
        if (chosen is not null)
        {
            gLoss += encoding.ConditionLoss(raw, chosen.Value.Column, chosen.Value.Category);
        }

        gOptimizer.zero_grad();
        gLoss.backward();
        gOptimizer.step();
        return (dLoss.item<float>(), gLoss.item<float>());
    }
}

/// <summary>Where each column sits in the encoded row and in the condition vector.</summary>
internal sealed class TableLayout
{
    public TableLayout(IReadOnlyList<TableColumn> columns)
    {
        Columns = columns;
        int offset = 0, condition = 0;
        var segments = new List<(TableColumn, int)>();
        var conditions = new List<(CategoricalColumn, int, int)>();
        foreach (var column in columns)
        {
            segments.Add((column, offset));
            if (column is CategoricalColumn categorical)
            {
                conditions.Add((categorical, offset, condition));
                condition += categorical.Width;
            }

            offset += column.Width;
        }

        Segments = segments;
        Categorical = conditions;
        DataWidth = offset;
        ConditionWidth = condition;
    }

    public IReadOnlyList<TableColumn> Columns { get; }

    public IReadOnlyList<(TableColumn Column, int Offset)> Segments { get; }

    /// <summary>Each categorical column with its offset in the row and in the condition vector.</summary>
    public IReadOnlyList<(CategoricalColumn Column, int Offset, int ConditionOffset)> Categorical { get; }

    public int DataWidth { get; }

    public int ConditionWidth { get; }

    /// <summary>tanh for the offsets, Gumbel-softmax for each one-hot (modes and categories).</summary>
    public Tensor Activate(Tensor raw, double temperature)
    {
        var parts = new List<Tensor>();
        foreach (var (column, offset) in Segments)
        {
            if (column is NumericColumn numeric)
            {
                parts.Add(raw.narrow(1, offset, 1).tanh());
                parts.Add(GumbelSoftmax(raw.narrow(1, offset + 1, numeric.Means.Length), temperature));
            }
            else
            {
                parts.Add(GumbelSoftmax(raw.narrow(1, offset, column.Width), temperature));
            }
        }

        return cat(parts, 1);
    }

    /// <summary>Cross-entropy of each row's conditioned column against its chosen category, averaged over the batch.</summary>
    public Tensor ConditionLoss(Tensor raw, Tensor column, Tensor category)
    {
        Tensor? total = null;
        for (int c = 0; c < Categorical.Count; c++)
        {
            var (categorical, offset, _) = Categorical[c];
            var mask = column.eq(c).to(ScalarType.Float32);
            var loss = nn.functional.cross_entropy(raw.narrow(1, offset, categorical.Width), category.clamp(0, categorical.Width - 1), reduction: nn.Reduction.None) * mask;
            total = total is null ? loss.sum() : total + loss.sum();
        }

        return total! / raw.shape[0];
    }

    private static Tensor GumbelSoftmax(Tensor logits, double temperature)
    {
        var uniform = rand_like(logits).clamp(1e-10, 1 - 1e-10);
        var gumbel = -(-uniform.log()).log();
        return nn.functional.softmax((logits + gumbel) / temperature, 1);
    }
}

/// <summary>
/// CTGAN's training-by-sampling: per row, a categorical column uniformly, a category with probability
/// proportional to log(1 + count), and a real row of that category.
/// </summary>
internal sealed class ConditionSampler
{
    private readonly TableLayout _layout;
    private readonly int _rows;
    private readonly int[][][] _rowsByCategory;
    private readonly double[][] _logFrequency;

    public ConditionSampler(TableLayout layout, int[][] categories, int rows)
    {
        _layout = layout;
        _rows = rows;
        _rowsByCategory = new int[layout.Categorical.Count][][];
        _logFrequency = new double[layout.Categorical.Count][];
        for (int c = 0; c < layout.Categorical.Count; c++)
        {
            int width = layout.Categorical[c].Column.Width;
            _rowsByCategory[c] = Enumerable.Range(0, width).Select(k => Enumerable.Range(0, rows).Where(r => categories[c][r] == k).ToArray()).ToArray();
            var weights = _rowsByCategory[c].Select(r => Math.Log(1 + r.Length)).ToArray();
            double total = weights.Sum();
            _logFrequency[c] = weights.Select(w => w / total).ToArray();
        }
    }

    public (Tensor Condition, (Tensor Column, Tensor Category)? Chosen, Tensor RealRows) Sample(int batch, Random random, Device device)
    {
        var realRows = new long[batch];
        if (_layout.Categorical.Count == 0)
        {
            for (int i = 0; i < batch; i++)
            {
                realRows[i] = random.Next(_rows);
            }

            return (zeros(batch, 0, device: device), null, tensor(realRows).to(device));
        }

        var condition = new float[batch * _layout.ConditionWidth];
        var columns = new long[batch];
        var chosen = new long[batch];
        for (int i = 0; i < batch; i++)
        {
            int c = random.Next(_layout.Categorical.Count);
            int k = Draw(_logFrequency[c], random);
            columns[i] = c;
            chosen[i] = k;
            condition[(i * _layout.ConditionWidth) + _layout.Categorical[c].ConditionOffset + k] = 1;
            var candidates = _rowsByCategory[c][k];
            realRows[i] = candidates[random.Next(candidates.Length)];
        }

        return (tensor(condition, [batch, _layout.ConditionWidth]).to(device), (tensor(columns).to(device), tensor(chosen).to(device)), tensor(realRows).to(device));
    }

    internal static int Draw(double[] probabilities, Random random)
    {
        double u = random.NextDouble();
        double cumulative = 0;
        for (int k = 0; k < probabilities.Length; k++)
        {
            cumulative += probabilities[k];
            if (u < cumulative)
            {
                return k;
            }
        }

        return probabilities.Length - 1;
    }
}
