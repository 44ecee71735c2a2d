using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// A random transformation of training batches (never validation or scoring). It is a callback so
/// that it reseeds from (seed, epoch) at every epoch start, as the engine reseeds dropout: a run
/// resumed from a checkpoint then sees exactly the augmentations an uninterrupted run would.
/// </summary>
internal abstract class BatchAugmentation : ITrainingCallback, IDisposable
{
    private readonly int _seed;

    protected BatchAugmentation(int seed) => _seed = seed;

    /// <summary>Transforms one batch's features, on their device, in the caller's dispose scope.</summary>
    public abstract Tensor Apply(Tensor features);

    public void OnEpochBegin(TrainingRun run, int epoch) => Reseed(TrainingRun.DeriveSeed(_seed, epoch));

    public abstract void Dispose();

    protected abstract void Reseed(long seed);
}
