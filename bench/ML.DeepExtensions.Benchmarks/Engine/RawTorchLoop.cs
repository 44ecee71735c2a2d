using System.Diagnostics;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>
/// The reference: a hand-written TorchSharp loop over tensors built once, training the same network
/// the MLP trainer builds (Standardization → (Linear → ReLU) per hidden layer → Linear), with Adam,
/// cross-entropy, a fresh random order each epoch and a dispose scope per batch. It reads no value
/// back from the tensors (no <c>.item()</c>), so it is the leanest loop one would write.
/// </summary>
internal sealed class RawTorchLoop : IDisposable
{
    private readonly Tensor _features;
    private readonly Tensor _labels;
    private readonly float[] _mean;
    private readonly float[] _std;
    private readonly int _rows;
    private readonly int _classes;

    public RawTorchLoop(SyntheticTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _rows = table.Rows;
        _classes = table.Classes;
        _features = tensor(table.Values, [table.Rows, table.Features]).DetachFromDisposeScope();
        _labels = tensor(table.Labels).DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        // The same statistics the trainer's pass computes (population standard deviation).
        _mean = _features.mean([0L]).data<float>().ToArray();
        _std = _features.std(0, unbiased: false).data<float>().ToArray();
    }

    /// <summary>The pre-built tensors as a batch source (seeded permutation per epoch, index_select per batch).</summary>
    public IBatchSource InMemorySource(int batchSize, int seed) => new InMemoryBatches(this, batchSize, seed);

    /// <summary>
    /// Trains a fresh network and times the epoch loop only. With readMetrics it also reads the loss
    /// and the batch accuracy back each batch, as the engine's supervised step does.
    /// </summary>
    public RawRun Train(EngineOverheadSettings settings, bool readMetrics = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        random.manual_seed(settings.Seed);
        using var network = BuildNetwork(settings.HiddenLayers);
        using var optimizer = optim.Adam(network.parameters(), settings.LearningRate);
        network.train();
        using var generator = new Generator((ulong)settings.Seed);
        int batchSize = settings.BatchSize;
        var run = new RawRun();
        run.Clock.Start();
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            using var order = randperm(_rows, generator: generator);
            for (int start = 0; start < _rows; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = order.narrow(0, start, Math.Min(batchSize, _rows - start));
                var x = _features.index_select(0, rows);
                var y = _labels.index_select(0, rows);
                long stepStart = Stopwatch.GetTimestamp();
                Step(network, optimizer, x, y, readMetrics);
                run.InStep += Stopwatch.GetElapsedTime(stepStart);
                run.Batches++;
            }
        }

        run.Clock.Stop();
        return run;
    }

    /// <summary>
    /// The same hand-written step, fed by any batch source (the data bridge, say); the scope is opened
    /// before MoveNext so that the batch's tensors are freed with it, as the engine does.
    /// </summary>
    public RawRun TrainFrom(IBatchSource source, EngineOverheadSettings settings)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(settings);
        random.manual_seed(settings.Seed);
        using var network = BuildNetwork(settings.HiddenLayers);
        using var optimizer = optim.Adam(network.parameters(), settings.LearningRate);
        network.train();
        var run = new RawRun();
        run.Clock.Start();
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            using var batches = source.GetBatches(epoch).GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext())
                {
                    break;
                }

                long stepStart = Stopwatch.GetTimestamp();
                Step(network, optimizer, batches.Current.Features, batches.Current.Label, readMetrics: false);
                run.InStep += Stopwatch.GetElapsedTime(stepStart);
                run.Batches++;
            }
        }

        run.Clock.Stop();
        return run;
    }

    /// <summary>The network the MLP trainer builds for these settings, with this table's statistics.</summary>
    public nn.Module<Tensor, Tensor> BuildNetwork(int[] hiddenLayers)
    {
        ArgumentNullException.ThrowIfNull(hiddenLayers);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("standardize", new Standardization(_mean, _std)) };
        int width = _mean.Length;
        for (int i = 0; i < hiddenLayers.Length; i++)
        {
            layers.Add(($"dense{i}", nn.Linear(width, hiddenLayers[i])));
            layers.Add(($"activation{i}", nn.ReLU()));
            width = hiddenLayers[i];
        }

        layers.Add(("output", nn.Linear(width, _classes)));
        return nn.Sequential(layers);
    }

    public void Dispose()
    {
        _features.Dispose();
        _labels.Dispose();
    }

    private static void Step(nn.Module<Tensor, Tensor> network, optim.Optimizer optimizer, Tensor x, Tensor y, bool readMetrics)
    {
        optimizer.zero_grad();
        var output = network.forward(x);
        var loss = nn.functional.cross_entropy(output, y);
        loss.backward();
        optimizer.step();
        if (readMetrics)
        {
            _ = loss.item<float>();
            using (no_grad())
            {
                _ = output.detach().argmax(1).eq(y).sum().item<long>();
            }
        }
    }

    private sealed class InMemoryBatches(RawTorchLoop owner, int batchSize, int seed) : IBatchSource
    {
        public long? RowCount => owner._rows;

        public long? BatchesPerEpoch => (owner._rows + batchSize - 1) / batchSize;

        public IEnumerable<TensorBatch> GetBatches(int epoch, CancellationToken cancellationToken = default)
        {
            using var generator = new Generator((ulong)seed + (ulong)epoch);
            using var order = randperm(owner._rows, generator: generator).DetachFromDisposeScope();
            for (int start = 0; start < owner._rows; start += batchSize)
            {
                int count = Math.Min(batchSize, owner._rows - start);
                // Created inside the consumer's per-batch scope (MoveNext runs up to here).
                var rows = order.narrow(0, start, count);
                yield return new TensorBatch(count, new Dictionary<string, Tensor>
                {
                    [BatchRoles.Features] = owner._features.index_select(0, rows),
                    [BatchRoles.Label] = owner._labels.index_select(0, rows),
                });
            }
        }
    }
}

/// <summary>One raw run: the loop's clock and the time spent in the training step proper.</summary>
internal sealed class RawRun
{
    public LoopClock Clock { get; } = new();

    public TimeSpan InStep { get; set; }

    public long Batches { get; set; }

    public double InStepMicroseconds => InStep.TotalMicroseconds / Math.Max(1, Batches);
}
