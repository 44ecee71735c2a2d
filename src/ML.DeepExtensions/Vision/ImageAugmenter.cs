using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision;

/// <summary>
/// Applies the random augmentations of <see cref="ImageAugmentationOptions"/> to a batch of images, a
/// floating-point tensor <c>[N, C, H, W]</c>, with its own seeded random generator: two augmenters
/// created with the same seed produce the same sequence of augmented batches from the same inputs.
/// </summary>
/// <remarks>
/// <para>
/// Use it on training batches only, never for validation or scoring. The random numbers (a few per
/// image) are drawn on the CPU from the augmenter's generator, so the result does not depend on the
/// device; the pixel work runs on the images' device as whole-batch tensor operations (a gather for the
/// crop, <c>where</c> on a per-image mask for the flip, a masked fill for erasing), with no per-image loop.
/// </para>
/// <para>
/// The intermediate tensors are freed before <see cref="Augment"/> returns; the result belongs to the
/// dispose scope that is current on the calling thread (or to the caller when there is none).
/// </para>
/// <para>An instance is not thread-safe: its generator advances with every batch.</para>
/// </remarks>
/// <example>
/// <code>
/// using var augmenter = new ImageAugmenter(new ImageAugmentationOptions { RandomCropPadding = 2, HorizontalFlip = true }, seed: 1);
/// foreach (var batch in trainBatches)
/// {
///     using var scope = torch.NewDisposeScope();
///     var images = augmenter.Augment(batch.Features);   // [N, 1, 28, 28]
///     // forward, loss, backward, step ...
/// }
/// </code>
/// </example>
public sealed class ImageAugmenter : IDisposable
{
    // Tries per image to draw an erasing rectangle that fits, as in the random-erasing paper; an image
    // whose tries all fail is left unerased.
    private const int ErasingAttempts = 10;

    private readonly Generator _generator;
    private readonly double _logMinAspect;
    private readonly double _logMaxAspect;
    private bool _disposed;

    /// <summary>Creates an augmenter.</summary>
    /// <param name="options">The augmentations to apply.</param>
    /// <param name="seed">The seed of the augmenter's random generator.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (see <see cref="ImageAugmentationOptions.Validate"/>).</exception>
    public ImageAugmenter(ImageAugmentationOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logMinAspect = Math.Log(options.RandomErasingMinAspectRatio);
        _logMaxAspect = Math.Log(options.RandomErasingMaxAspectRatio);
        _generator = new Generator(0, CPU);
        _generator.manual_seed(seed);
    }

    /// <summary>The augmentations this augmenter applies.</summary>
    public ImageAugmentationOptions Options { get; }

    /// <summary>
    /// Restarts the random sequence from <paramref name="seed"/>, for example from a per-epoch seed so that
    /// a resumed run augments its remaining epochs as an uninterrupted run would.
    /// </summary>
    /// <param name="seed">The new seed.</param>
    public void Reseed(long seed)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _generator.manual_seed(seed);
    }

    /// <summary>Augments a batch of images.</summary>
    /// <param name="images">A floating-point tensor <c>[N, C, H, W]</c> on any device. It is not modified.</param>
    /// <returns>
    /// A new tensor of the same shape, dtype and device, in the caller's dispose scope. When every
    /// augmentation is off (<see cref="ImageAugmentationOptions.IsIdentity"/>) or the batch is empty,
    /// <paramref name="images"/> itself.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="images"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not a 4-dimensional floating-point tensor.</exception>
    public Tensor Augment(Tensor images)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
        {
            throw new ArgumentException(
                $"Expected a floating-point image batch [N, C, H, W]; got a {images.dtype} tensor of shape [{string.Join(", ", images.shape)}].",
                nameof(images));
        }

        if (Options.IsIdentity || images.shape[0] == 0)
        {
            return images;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var result = images;
        if (Options.RandomCropPadding > 0)
        {
            result = RandomCrop(result, Options.RandomCropPadding);
        }

        if (Options.HorizontalFlip)
        {
            result = RandomFlip(result);
        }

        if (Options.RandomErasingProbability > 0)
        {
            result = RandomErase(result);
        }

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Frees the random generator.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _generator.Dispose();
        }
    }

    // Zero-pad, then take an H x W window at a per-image offset in [0, 2p] on each axis: two gathers,
    // first along rows, then along columns, each with a per-image index built from the offsets.
    private Tensor RandomCrop(Tensor images, int padding)
    {
        long n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        var device = images.device;
        var offsets = randint(0, (2 * padding) + 1, [n, 2], dtype: ScalarType.Int64, generator: _generator).to(device);
        var padded = nn.functional.pad(images, [padding, padding, padding, padding]);

        var rows = offsets.select(1, 0).unsqueeze(1) + arange(h, dtype: ScalarType.Int64, device: device);
        var rowIndex = rows.view(n, 1, h, 1).expand(n, c, h, w + (2 * padding));
        var croppedRows = padded.gather(2, rowIndex);

        var columns = offsets.select(1, 1).unsqueeze(1) + arange(w, dtype: ScalarType.Int64, device: device);
        var columnIndex = columns.view(n, 1, 1, w).expand(n, c, h, w);
        return croppedRows.gather(3, columnIndex);
    }

    private Tensor RandomFlip(Tensor images)
    {
        long n = images.shape[0];
        var flip = (rand([n], dtype: ScalarType.Float64, generator: _generator) < 0.5).to(images.device).view(n, 1, 1, 1);
        return where(flip, images.flip(3), images);
    }

    // Rectangle sizes are drawn on the CPU in double precision: ErasingAttempts candidates per image, of
    // which the first that fits inside the image is used. The fill is one masked_fill over the batch.
    private Tensor RandomErase(Tensor images)
    {
        long n = images.shape[0], h = images.shape[2], w = images.shape[3];
        double imageArea = (double)h * w;

        var chosen = rand([n], dtype: ScalarType.Float64, generator: _generator) < Options.RandomErasingProbability;
        var area = Uniform([n, ErasingAttempts], Options.RandomErasingMinArea * imageArea, Options.RandomErasingMaxArea * imageArea);
        var aspect = Uniform([n, ErasingAttempts], _logMinAspect, _logMaxAspect).exp();
        var heights = (area * aspect).sqrt().round();
        var widths = (area / aspect).sqrt().round();
        var fits = (heights >= 1) & (heights <= h) & (widths >= 1) & (widths <= w);

        // argmax over 0/1 returns the first index of the maximum: the first candidate that fits.
        var first = fits.to(ScalarType.Int32).argmax(1, keepdim: true);
        var height = heights.gather(1, first).squeeze(1);
        var width = widths.gather(1, first).squeeze(1);
        var apply = chosen & fits.any(1);

        // A uniform position among the (h - height + 1) x (w - width + 1) places the rectangle fits.
        var top = minimum((rand([n], dtype: ScalarType.Float64, generator: _generator) * (h - height + 1)).floor(), h - height);
        var left = minimum((rand([n], dtype: ScalarType.Float64, generator: _generator) * (w - width + 1)).floor(), w - width);

        var device = images.device;
        var top64 = top.to(ScalarType.Int64, device).unsqueeze(1);
        var bottom64 = (top + height).to(ScalarType.Int64, device).unsqueeze(1);
        var left64 = left.to(ScalarType.Int64, device).unsqueeze(1);
        var right64 = (left + width).to(ScalarType.Int64, device).unsqueeze(1);
        var ys = arange(h, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        var xs = arange(w, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        var inRows = (ys >= top64) & (ys < bottom64);
        var inColumns = (xs >= left64) & (xs < right64);
        var mask = inRows.unsqueeze(2) & inColumns.unsqueeze(1) & apply.to(device).view(n, 1, 1);
        return images.masked_fill(mask.unsqueeze(1), Options.RandomErasingValue);
    }

    private Tensor Uniform(long[] shape, double low, double high) =>
        (rand(shape, dtype: ScalarType.Float64, generator: _generator) * (high - low)) + low;
}
