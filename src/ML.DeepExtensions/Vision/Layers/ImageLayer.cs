using System.Globalization;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Layers;

/// <summary>
/// One layer of a convolutional architecture, described rather than built: the trainer checks the
/// whole list against the input shape before reading any data, then builds the TorchSharp modules.
/// Create layers with <see cref="Layer"/>'s factory methods.
/// </summary>
public abstract record ImageLayer
{
    /// <summary>The shape this layer produces from <paramref name="input"/> ([C, H, W] or [F]); throws <see cref="LayerShapeException"/> when it cannot.</summary>
    internal abstract long[] OutputShape(long[] input);

    /// <summary>The TorchSharp module for an input of shape <paramref name="input"/>.</summary>
    internal abstract nn.Module<Tensor, Tensor> Build(long[] input);

    /// <summary>A short description for messages, e.g. "Conv2D(32, 3x3, stride 1, padding 1)".</summary>
    public abstract string Describe();

    private protected static void RequireImage(long[] input, string what)
    {
        if (input.Length != 3)
        {
            throw new LayerShapeException($"{what} needs an image input [C, H, W] but gets [{Format(input)}]; put it before Flatten/GlobalAveragePooling/Dense.");
        }
    }

    internal static string Format(long[] shape) => string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>A layer that does not fit the shape it receives; the trainer adds the layer index.</summary>
public sealed class LayerShapeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public LayerShapeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public LayerShapeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public LayerShapeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
