using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Vision;

/// <summary>
/// The basic residual block of ResNet-18/34: two 3×3 convolutions, each followed by batch
/// normalization, with a shortcut connection added before the final ReLU. Input and output are NCHW.
/// </summary>
/// <remarks>
/// <para>
/// Main path: conv 3×3 (<see cref="Stride"/>, padding 1, no bias) → BatchNorm2d → ReLU → conv 3×3
/// (padding 1, no bias) → BatchNorm2d. Shortcut: the identity, or, when the stride is not 1 or the
/// channel count changes, a projection conv 1×1 (<see cref="Stride"/>, no bias) → BatchNorm2d.
/// Output: ReLU(main + shortcut), of shape <c>[N, OutChannels, ⌈H/Stride⌉, ⌈W/Stride⌉]</c>.
/// </para>
/// <para>The ONNX exporter converts it (BatchNorm2d in inference form, with the running statistics).</para>
/// <example>
/// <code>
/// var stem = nn.Sequential(("conv", nn.Conv2d(3, 16, 3, padding: 1)), ("bn", nn.BatchNorm2d(16)), ("relu", nn.ReLU()));
/// var stage = nn.Sequential(("block1", new ResidualBlock(16, 32, stride: 2)), ("block2", new ResidualBlock(32, 32)));
/// </code>
/// </example>
/// </remarks>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    // PyTorch's names in the state dictionary (conv1.weight, bn1.running_mean, shortcut.conv.weight...).
    [ComponentName(Name = "conv1")]
    private readonly Conv2d _conv1;
    [ComponentName(Name = "bn1")]
    private readonly BatchNorm2d _bn1;
    [ComponentName(Name = "conv2")]
    private readonly Conv2d _conv2;
    [ComponentName(Name = "bn2")]
    private readonly BatchNorm2d _bn2;
    [ComponentName(Name = "shortcut")]
    private readonly Sequential? _shortcut;

    /// <summary>Creates the block with freshly initialised weights.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="stride">Stride of the first convolution (and of the projection); 2 halves the spatial size.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is less than 1.</exception>
    public ResidualBlock(int inChannels, int outChannels, int stride = 1, string name = "residual_block")
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;

        _conv1 = nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: 1, bias: false);
        _bn1 = nn.BatchNorm2d(outChannels);
        _conv2 = nn.Conv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1, bias: false);
        _bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
        {
            _shortcut = nn.Sequential(
                ("conv", nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, bias: false)),
                ("bn", nn.BatchNorm2d(outChannels)));
        }

        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Stride of the first convolution and of the projection shortcut.</summary>
    public int Stride { get; }

    /// <summary>Whether the shortcut is a projection (conv 1×1 → BatchNorm2d) rather than the identity.</summary>
    public bool HasProjectionShortcut => _shortcut is not null;

    // The ONNX converter exports the children through the exporter, by these accessors.
    internal Conv2d Conv1 => _conv1;

    internal BatchNorm2d BatchNorm1 => _bn1;

    internal Conv2d Conv2 => _conv2;

    internal BatchNorm2d BatchNorm2 => _bn2;

    internal Sequential? Shortcut => _shortcut;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var main = _bn2.forward(_conv2.forward(nn.functional.relu(_bn1.forward(_conv1.forward(input)))));
        var shortcut = _shortcut is null ? input : _shortcut.forward(input);
        return nn.functional.relu(main + shortcut).MoveToOuterDisposeScope();
    }
}
