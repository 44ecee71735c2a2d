using ML.DeepExtensions.Supervised;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision;

/// <summary>The image classifier's training-batch augmentation: an <see cref="ImageAugmenter"/> reseeded per epoch.</summary>
internal sealed class ImageBatchAugmentation(ImageAugmentationOptions options, int seed) : BatchAugmentation(seed)
{
    private readonly ImageAugmenter _augmenter = new(options, seed);

    public override Tensor Apply(Tensor features) => _augmenter.Augment(features);

    public override void Dispose() => _augmenter.Dispose();

    protected override void Reseed(long seed) => _augmenter.Reseed(seed);
}
