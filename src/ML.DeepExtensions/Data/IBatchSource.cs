namespace ML.DeepExtensions.Data;

/// <summary>
/// A repeatable stream of mini-batches: every epoch asks for a fresh pass. Sources built from an
/// IDataView read it through cursors and never hold the whole data set; custom sources (an RL
/// replay buffer, a GAN noise sampler) implement the same interface, so the engine does not care
/// where batches come from.
/// </summary>
public interface IBatchSource
{
    /// <summary>Rows per epoch if known (after a counting pass or from the data view), otherwise null.</summary>
    long? RowCount { get; }

    /// <summary>Batches per epoch if known, otherwise null.</summary>
    long? BatchesPerEpoch { get; }

    /// <summary>
    /// Enumerates one epoch. The epoch number seeds the shuffle, so the same (seed, epoch) gives the
    /// same order, which makes a resumed run match an uninterrupted one. Each batch's tensors are
    /// created during <c>MoveNext</c>, inside the caller's current dispose scope.
    /// </summary>
    IEnumerable<TensorBatch> GetBatches(int epoch, CancellationToken cancellationToken = default);
}
