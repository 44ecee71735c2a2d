using ML.DeepExtensions.Data;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>A tiny custom batch source over arrays, with a seeded per-epoch permutation.</summary>
internal sealed class InMemoryBatchSource : IBatchSource
{
    private readonly float[][] _features;
    private readonly long[] _labels;
    private readonly int _batchSize;
    private readonly int _seed;

    public InMemoryBatchSource(float[][] features, long[] labels, int batchSize, int seed = 1)
    {
        _features = features;
        _labels = labels;
        _batchSize = batchSize;
        _seed = seed;
    }

    public long? RowCount => _labels.Length;

    public long? BatchesPerEpoch => (_labels.Length + _batchSize - 1) / _batchSize;

    public int EnumerationsStarted { get; private set; }

    public IEnumerable<TensorBatch> GetBatches(int epoch, CancellationToken cancellationToken = default)
    {
        EnumerationsStarted++;
        var order = Enumerable.Range(0, _labels.Length).ToArray();
        new Random(_seed * 7919 + epoch).Shuffle(order);
        for (int start = 0; start < order.Length; start += _batchSize)
        {
            var rows = order.Skip(start).Take(_batchSize).ToArray();
            int width = _features[0].Length;
            var x = new float[rows.Length * width];
            for (int i = 0; i < rows.Length; i++)
            {
                _features[rows[i]].CopyTo(x, i * width);
            }

            yield return new TensorBatch(rows.Length, new Dictionary<string, Tensor>
            {
                [BatchRoles.Features] = tensor(x, [rows.Length, width]),
                [BatchRoles.Label] = tensor(rows.Select(r => _labels[r]).ToArray()),
            });
        }
    }

    /// <summary>Two Gaussian-ish blobs per class, linearly separable enough to learn in a few epochs.</summary>
    public static InMemoryBatchSource Blobs(int rows, int classes, int features, int batchSize, int seed = 1)
    {
        var rng = new Random(seed);
        var x = new float[rows][];
        var y = new long[rows];
        for (int i = 0; i < rows; i++)
        {
            y[i] = i % classes;
            x[i] = Enumerable.Range(0, features)
                .Select(f => (float)((f % classes == y[i] ? 2.0 : 0.0) + (rng.NextDouble() - 0.5)))
                .ToArray();
        }

        return new InMemoryBatchSource(x, y, batchSize, seed);
    }
}
