using System.Globalization;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Layers;

/// <summary>A 2-D convolution with <see cref="Filters"/> output channels.</summary>
/// <param name="Filters">Output channels.</param>
/// <param name="KernelSize">Square kernel size.</param>
/// <param name="Stride">Stride.</param>
/// <param name="Padding">Zero padding on each side.</param>
public sealed record ConvolutionLayer(int Filters, int KernelSize, int Stride, int Padding) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        long height = ((input[1] + (2 * Padding) - KernelSize) / Stride) + 1;
        long width = ((input[2] + (2 * Padding) - KernelSize) / Stride) + 1;
        if (height < 1 || width < 1)
        {
            throw new LayerShapeException($"{Describe()} cannot convolve a {input[1]}x{input[2]} input (shape [{Format(input)}]): the kernel is larger than the padded image.");
        }

        return [Filters, height, width];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) =>
        nn.Conv2d(input[0], Filters, KernelSize, stride: Stride, padding: Padding);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Conv2D({Filters}, {KernelSize}x{KernelSize}, stride {Stride}, padding {Padding})");
}

/// <summary>Max or average pooling over square windows.</summary>
/// <param name="Average">True for average pooling, false for max pooling.</param>
/// <param name="Size">Window size.</param>
/// <param name="Stride">Stride.</param>
public sealed record PoolingLayer(bool Average, int Size, int Stride) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        if (input[1] < Size || input[2] < Size)
        {
            throw new LayerShapeException($"{Describe()} cannot pool a {input[1]}x{input[2]} input (shape [{Format(input)}]).");
        }

        return [input[0], ((input[1] - Size) / Stride) + 1, ((input[2] - Size) / Stride) + 1];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => Average
        ? nn.AvgPool2d(Size, Stride)
        : nn.MaxPool2d(Size, Stride);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"{(Average ? "AvgPool2D" : "MaxPool2D")}({Size}x{Size}, stride {Stride})");
}

/// <summary>Batch normalisation over channels (images) or features (flat inputs).</summary>
public sealed record BatchNormalizationLayer : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input) => input;

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => input.Length == 3
        ? nn.BatchNorm2d(input[0])
        : nn.BatchNorm1d(input[0]);

    /// <inheritdoc />
    public override string Describe() => "BatchNorm";
}

/// <summary>Dropout with probability <see cref="Rate"/> during training.</summary>
/// <param name="Rate">Probability of zeroing an element, in [0, 1).</param>
public sealed record DropoutLayer(double Rate) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input) => input;

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => nn.Dropout(Rate);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dropout({Rate})");
}

/// <summary>An activation function.</summary>
/// <param name="Function">Which activation.</param>
public sealed record ActivationLayer(Activation Function) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input) => input;

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => Activations.Create(Function);

    /// <inheritdoc />
    public override string Describe() => $"Activation({Function})";
}

/// <summary>Leaky ReLU with slope <see cref="NegativeSlope"/> for negative inputs.</summary>
/// <param name="NegativeSlope">The slope below zero.</param>
public sealed record LeakyReluLayer(double NegativeSlope) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input) => input;

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => nn.LeakyReLU(NegativeSlope);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"LeakyReLU({NegativeSlope})");
}

/// <summary>Flattens [C, H, W] into [C·H·W].</summary>
public sealed record FlattenLayer : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input) => [input.Aggregate(1L, (a, b) => a * b)];

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => nn.Flatten();

    /// <inheritdoc />
    public override string Describe() => "Flatten";
}

/// <summary>A fully connected layer with <see cref="Units"/> outputs.</summary>
/// <param name="Units">Output features.</param>
public sealed record DenseLayer(int Units) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireFlat(input, Describe());

        return [Units];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => nn.Linear(input[0], Units);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dense({Units})");
}

/// <summary>A ResNet basic block with <see cref="Filters"/> output channels.</summary>
/// <param name="Filters">Output channels.</param>
/// <param name="Stride">Stride of the first convolution (2 halves the resolution).</param>
public sealed record ResidualLayer(int Filters, int Stride) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        return [Filters, ((input[1] - 1) / Stride) + 1, ((input[2] - 1) / Stride) + 1];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new ResidualBlock((int)input[0], Filters, Stride);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Residual({Filters}, stride {Stride})");
}

/// <summary>Averages each channel over the image: [C, H, W] → [C].</summary>
public sealed record GlobalAveragePoolingLayer : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        return [input[0]];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new GlobalAveragePooling();

    /// <inheritdoc />
    public override string Describe() => "GlobalAveragePooling";
}
