using Microsoft.ML;
using ML.DeepExtensions.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>
/// A prototype of a proposed data-bridge mode, measured here and not used by the library: when the
/// rows fit in memory, read the IDataView once (through the library's own DataViewBatchSource,
/// unshuffled) into one tensor per column, then serve every epoch from those tensors with a seeded
/// permutation and index_select on the training thread: no reader thread, no per-batch hand-off,
/// no per-epoch refill of the shuffle buffer. The read happens inside the first epoch, so it is
/// counted in the timed loop.
/// </summary>
internal sealed class MaterialisedBatchSource(IDataView data, int batchSize, int seed) : IBatchSource, IDisposable
{
    private const int ReadBatchRows = 4096;
    private Tensor? _features;
    private Tensor? _labels;

    public long? RowCount => _labels?.shape[0] ?? data.GetRowCount();

    public long? BatchesPerEpoch => RowCount is { } rows ? (rows + batchSize - 1) / batchSize : null;

    public IEnumerable<TensorBatch> GetBatches(int epoch, CancellationToken cancellationToken = default)
    {
        if (_features is null || _labels is null)
        {
            Materialise(cancellationToken);
        }

        var features = _features!;
        var labels = _labels!;
        long rows = labels.shape[0];
        using var generator = new Generator((ulong)seed + (ulong)epoch);
        using var order = randperm(rows, generator: generator).DetachFromDisposeScope();
        for (long start = 0; start < rows; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = (int)Math.Min(batchSize, rows - start);
            // Created inside the consumer's per-batch scope, as the library's sources do.
            var indices = order.narrow(0, start, count);
            yield return new TensorBatch(count, new Dictionary<string, Tensor>
            {
                [BatchRoles.Features] = features.index_select(0, indices),
                [BatchRoles.Label] = labels.index_select(0, indices),
            });
        }
    }

    public void Dispose()
    {
        _features?.Dispose();
        _labels?.Dispose();
        _features = null;
        _labels = null;
    }

    private void Materialise(CancellationToken cancellationToken)
    {
        var reader = new DataViewBatchSource(data, [BatchColumn.Features(), BatchColumn.ClassLabel()],
            new BatchSourceOptions { BatchSize = ReadBatchRows, Shuffle = false });
        using var scope = NewDisposeScope();
        var featureParts = new List<Tensor>();
        var labelParts = new List<Tensor>();
        foreach (var batch in reader.GetBatches(0, cancellationToken))
        {
            featureParts.Add(batch.Features);
            labelParts.Add(batch.Label);
        }

        _features = cat(featureParts, 0).DetachFromDisposeScope();
        _labels = cat(labelParts, 0).DetachFromDisposeScope();
    }
}
