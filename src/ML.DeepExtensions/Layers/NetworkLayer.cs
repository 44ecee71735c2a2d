using System.Globalization;
using ML.DeepExtensions.Onnx;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Layers;

/// <summary>
/// One layer of a network, described rather than built: a trainer checks the whole list against the
/// input shape before reading any data, then builds the TorchSharp modules. Every family (MLP, CNN,
/// and the sequence, GAN and policy networks to come) describes its networks with these.
/// </summary>
/// <remarks>
/// <para>Create the built-in layers with <see cref="Layer"/>'s factory methods.</para>
/// <para>
/// To add a layer type, derive a record from this class and implement three things: its shape rule
/// (<see cref="OutputShape"/>), its TorchSharp module (<see cref="Build"/>) and, unless the module
/// implements <see cref="IOnnxExportable"/> or is made of modules the exporter knows, its ONNX
/// converter (<see cref="RegisterOnnxConverters"/>). Positional record parameters make the layer
/// serialisable, so a saved model that uses it can be rebuilt for further training while the
/// layer's assembly is loaded.
/// </para>
/// </remarks>
public abstract record NetworkLayer
{
    /// <summary>
    /// The per-row shape this layer produces from <paramref name="input"/> (for example [C, H, W] or
    /// [F], without the batch dimension); throws <see cref="LayerShapeException"/> when it cannot.
    /// </summary>
    public abstract long[] OutputShape(long[] input);

    /// <summary>The TorchSharp module for a per-row input of shape <paramref name="input"/>; it receives batches [N, ..input].</summary>
    public abstract nn.Module<Tensor, Tensor> Build(long[] input);

    /// <summary>A short description for messages and model inspection, e.g. "Conv2D(32, 3x3, stride 1, padding 1)".</summary>
    public abstract string Describe();

    /// <summary>Registers ONNX converters for module types this layer builds that the exporter does not know. Default: none.</summary>
    public virtual void RegisterOnnxConverters(OnnxModuleExporter exporter)
    {
    }

    /// <summary>Throws <see cref="LayerShapeException"/> unless <paramref name="input"/> is an image shape [C, H, W].</summary>
    protected static void RequireImage(long[] input, string what)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != 3)
        {
            throw new LayerShapeException($"{what} needs an image input [C, H, W] but gets [{Format(input)}]; put it before Flatten/GlobalAveragePooling/Dense.");
        }
    }

    /// <summary>Throws <see cref="LayerShapeException"/> unless <paramref name="input"/> is flat [F].</summary>
    protected static void RequireFlat(long[] input, string what)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != 1)
        {
            throw new LayerShapeException($"{what} needs a flat input but gets [{Format(input)}]; add Layer.Flatten() or Layer.GlobalAveragePooling() before it.");
        }
    }

    /// <summary>Formats a shape for messages: "1, 28, 28".</summary>
    protected internal static string Format(long[] shape) => string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>A layer that does not fit the shape it receives; the builder adds the layer index.</summary>
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

/// <summary>The names of the top-level layers of every network this library builds: the same in every family.</summary>
public static class LayerNames
{
    /// <summary>The input normalisation (feature standardisation, image pixel normalisation), when present.</summary>
    public const string Normalize = "normalize";

    /// <summary>The output head: the last trainable layer, replaced when fine-tuning for a new label set.</summary>
    public const string Output = "output";

    /// <summary>The fixed rescaling to label units after a regression head.</summary>
    public const string LabelScale = "label_scale";

    /// <summary>The name of the described layer at <paramref name="index"/>: <c>layer0</c>, <c>layer1</c>, ...</summary>
    public static string Layer(int index) => string.Create(CultureInfo.InvariantCulture, $"layer{index}");
}
