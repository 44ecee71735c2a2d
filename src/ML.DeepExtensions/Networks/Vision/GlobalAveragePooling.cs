using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Vision;

/// <summary>
/// Global average pooling: the mean of each channel over height and width, turning a feature map
/// <c>[N, C, H, W]</c> into a feature vector <c>[N, C]</c> for a classifier head.
/// </summary>
/// <remarks>
/// It works for any spatial size, so a network ending with it accepts images of any size.
/// Equivalent to <c>AdaptiveAvgPool2d(1)</c> followed by <c>Flatten</c>.
/// </remarks>
public sealed class GlobalAveragePooling : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer (it has no parameters).</summary>
    /// <param name="name">Module name.</param>
    public GlobalAveragePooling(string name = "global_average_pooling")
        : base(name)
    {
        RegisterComponents();
    }

    /// <summary>The per-channel mean over the last two dimensions.</summary>
    /// <param name="input">A tensor <c>[N, C, H, W]</c>.</param>
    /// <returns>A tensor <c>[N, C]</c>.</returns>
    /// <exception cref="ArgumentException">The input is not of rank 4.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4)
        {
            throw new ArgumentException($"GlobalAveragePooling expects an [N, C, H, W] input but got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }

        return input.mean([2L, 3L]);
    }
}
