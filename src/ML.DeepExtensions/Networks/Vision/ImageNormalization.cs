using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Vision;

/// <summary>
/// Per-channel image normalisation as the first layer of a network:
/// <c>y[n, c, h, w] = (x[n, c, h, w] · scale − mean[c]) / std[c]</c>.
/// </summary>
/// <remarks>
/// <para>
/// Putting the normalisation inside the network means that raw pixels (for example 0..255 from
/// ML.NET's <c>ExtractPixels</c>) go straight into the model, and the constants travel with the saved
/// weights and the exported ONNX graph instead of living in a separate preprocessing step.
/// The constants are buffers, so they follow the module to another device or element type.
/// </para>
/// <example>
/// ImageNet statistics for 0..255 RGB pixels:
/// <code>
/// var normalize = new ImageNormalization(1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
/// </code>
/// </example>
/// </remarks>
public sealed class ImageNormalization : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="scale">Factor applied to the input first, for example <c>1f / 255</c> for 8-bit pixels.</param>
    /// <param name="mean">Per-channel mean subtracted after scaling; its length is the channel count.</param>
    /// <param name="std">Per-channel standard deviation divided by; positive and finite, as many as <paramref name="mean"/>.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentException">The arrays are empty or of different lengths, a value is not finite, or a standard deviation is not positive.</exception>
    public ImageNormalization(float scale, float[] mean, float[] std, string name = "image_normalization")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (!float.IsFinite(scale))
        {
            throw new ArgumentException($"scale must be finite but is {scale.ToString(CultureInfo.InvariantCulture)}.", nameof(scale));
        }

        if (mean.Length == 0)
        {
            throw new ArgumentException("At least one channel is needed.", nameof(mean));
        }

        if (mean.Length != std.Length)
        {
            throw new ArgumentException($"mean has {mean.Length} values but std has {std.Length}.", nameof(std));
        }

        if (Array.FindIndex(mean, m => !float.IsFinite(m)) is var badMean and >= 0)
        {
            throw new ArgumentException($"mean[{badMean}] is not finite.", nameof(mean));
        }

        if (Array.FindIndex(std, s => !(s > 0) || !float.IsFinite(s)) is var badStd and >= 0)
        {
            throw new ArgumentException($"std[{badStd}] = {std[badStd].ToString(CultureInfo.InvariantCulture)} must be positive and finite.", nameof(std));
        }

        // [C, 1, 1] broadcasts over H and W, for batched [N, C, H, W] and single [C, H, W] images alike.
        long[] channelShape = [mean.Length, 1, 1];
        register_buffer("scale", tensor(scale).DetachFromDisposeScope());
        register_buffer("mean", tensor(mean, channelShape).DetachFromDisposeScope());
        register_buffer("std", tensor(std, channelShape).DetachFromDisposeScope());
    }

    /// <summary>Number of channels.</summary>
    public int ChannelCount => (int)Mean.shape[0];

    /// <summary>The factor applied to the input first (a scalar buffer of this module).</summary>
    public Tensor Scale => get_buffer("scale")!;

    /// <summary>The per-channel means, shape <c>[C, 1, 1]</c> (a buffer of this module).</summary>
    public Tensor Mean => get_buffer("mean")!;

    /// <summary>The per-channel standard deviations, shape <c>[C, 1, 1]</c> (a buffer of this module).</summary>
    public Tensor Std => get_buffer("std")!;

    /// <summary>Normalises each channel.</summary>
    /// <param name="input">Images <c>[N, C, H, W]</c> (or one image <c>[C, H, W]</c>).</param>
    /// <returns>The normalised images, same shape.</returns>
    /// <exception cref="ArgumentException">The input's channel dimension does not match <see cref="ChannelCount"/>.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // Without this check a one-channel layer would silently broadcast over a colour image.
        if (input.dim() < 3 || input.shape[^3] != ChannelCount)
        {
            throw new ArgumentException(
                $"ImageNormalization has {ChannelCount} channel(s) and expects [N, {ChannelCount}, H, W] or [{ChannelCount}, H, W], " +
                $"but the input has shape [{string.Join(", ", input.shape)}].", nameof(input));
        }

        using var scope = torch.NewDisposeScope();
        return ((input * Scale - Mean) / Std).MoveToOuterDisposeScope();
    }
}
