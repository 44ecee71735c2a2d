using System.Globalization;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Vision;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision;

/// <summary>
/// The ResNet family of torchvision (<c>resnet18</c>, <c>resnet34</c> and narrower variants) in this
/// library's layer system, with parameter names that map one to one onto torchvision's, so that a
/// <c>state_dict</c> saved by PyTorch loads with <see cref="Networks.PretrainedNetwork.FromPyTorchStateDict"/>.
/// </summary>
/// <remarks>
/// <para>Layers: <c>layer0</c> is the stem (conv1 7×7 stride 2, bn1, ReLU, 3×3 max pooling stride 2),
/// <c>layer1</c> … <c>layer4</c> are torchvision's stages of basic blocks, <c>layer5</c> is global average
/// pooling, and <c>output</c> is torchvision's <c>fc</c>. Names inside the stages are torchvision's
/// (<c>layer2.0.conv1.weight</c>), except that a block's projection is called <c>shortcut.conv</c> and
/// <c>shortcut.bn</c> where torchvision says <c>downsample.0</c> and <c>downsample.1</c>; <see cref="ParameterName"/>
/// does the mapping.</para>
/// </remarks>
public static class TorchvisionResNet
{
    /// <summary>torchvision's <c>resnet18</c>: stages of 64, 128, 256 and 512 channels, two blocks each.</summary>
    public static IReadOnlyList<NetworkLayer> ResNet18 { get; } = Architecture([64, 128, 256, 512], [2, 2, 2, 2]);

    /// <summary>torchvision's <c>resnet34</c>: 3, 4, 6 and 3 blocks.</summary>
    public static IReadOnlyList<NetworkLayer> ResNet34 { get; } = Architecture([64, 128, 256, 512], [3, 4, 6, 3]);

    /// <summary>
    /// A torchvision-style ResNet of basic blocks: a stem of <paramref name="widths"/>[0] channels, one
    /// stage per width (the first at stride 1, the others at stride 2), then global average pooling.
    /// </summary>
    public static IReadOnlyList<NetworkLayer> Architecture(IReadOnlyList<int> widths, IReadOnlyList<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(blocks);
        OptionChecks.Require(widths.Count > 0 && widths.Count == blocks.Count, nameof(blocks), blocks.Count, "must give one block count per width");
        OptionChecks.Require(widths.All(w => w > 0), nameof(widths), string.Join(",", widths), "must be positive");
        OptionChecks.Require(blocks.All(b => b > 0), nameof(blocks), string.Join(",", blocks), "must be positive");
        var layers = new List<NetworkLayer> { new ResNetStemLayer(widths[0]) };
        for (int i = 0; i < widths.Count; i++)
        {
            layers.Add(new ResNetStageLayer(widths[i], blocks[i], i == 0 ? 1 : 2));
        }

        layers.Add(Layer.GlobalAveragePooling());
        return layers;
    }

    /// <summary>
    /// This library's name of a torchvision ResNet parameter: <c>conv1.weight</c> → <c>layer0.conv1.weight</c>,
    /// <c>fc.bias</c> → <c>output.bias</c>, <c>layer2.0.downsample.1.running_mean</c> → <c>layer2.0.shortcut.bn.running_mean</c>.
    /// </summary>
    public static string ParameterName(string torchvisionName)
    {
        ArgumentNullException.ThrowIfNull(torchvisionName);
        if (torchvisionName.StartsWith("conv1.", StringComparison.Ordinal) || torchvisionName.StartsWith("bn1.", StringComparison.Ordinal))
        {
            return $"{LayerNames.Layer(0)}.{torchvisionName}";
        }

        if (torchvisionName.StartsWith("fc.", StringComparison.Ordinal))
        {
            return $"{LayerNames.Output}.{torchvisionName["fc.".Length..]}";
        }

        return torchvisionName.Replace(".downsample.0.", ".shortcut.conv.", StringComparison.Ordinal)
            .Replace(".downsample.1.", ".shortcut.bn.", StringComparison.Ordinal);
    }
}

/// <summary>The stem of a torchvision ResNet: conv1 (7×7, stride 2, padding 3, no bias), bn1, ReLU, max pooling (3×3, stride 2, padding 1).</summary>
/// <param name="Filters">Output channels (64 in torchvision).</param>
public sealed record ResNetStemLayer(int Filters) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        long Convolved(long size) => ((size + 6 - 7) / 2) + 1;
        long Pooled(long size) => ((size + 2 - 3) / 2) + 1;
        if (Convolved(input[1]) < 1 || Convolved(input[2]) < 1)
        {
            throw new LayerShapeException($"{Describe()} cannot take a {input[1]}x{input[2]} image: it needs at least 1x1 after the 7x7 convolution.");
        }

        return [Filters, Pooled(Convolved(input[1])), Pooled(Convolved(input[2]))];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => nn.Sequential(
        ("conv1", nn.Conv2d(input[0], Filters, 7, stride: 2, padding: 3, bias: false)),
        ("bn1", nn.BatchNorm2d(Filters)),
        ("relu", nn.ReLU()),
        ("maxpool", nn.MaxPool2d(3, stride: 2, padding: 1)));

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"ResNetStem({Filters})");
}

/// <summary>A stage of a torchvision ResNet: <paramref name="Blocks"/> basic blocks, children <c>0</c>, <c>1</c>, …; the first has the stride.</summary>
/// <param name="Filters">Output channels.</param>
/// <param name="Blocks">Basic blocks in the stage.</param>
/// <param name="Stride">Stride of the first block.</param>
public sealed record ResNetStageLayer(int Filters, int Blocks, int Stride) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        return [Filters, ((input[1] - 1) / Stride) + 1, ((input[2] - 1) / Stride) + 1];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input)
    {
        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < Blocks; i++)
        {
            blocks.Add((i.ToString(CultureInfo.InvariantCulture), new ResidualBlock(i == 0 ? (int)input[0] : Filters, Filters, i == 0 ? Stride : 1)));
        }

        return nn.Sequential(blocks);
    }

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"ResNetStage({Filters}, {Blocks} blocks, stride {Stride})");
}
