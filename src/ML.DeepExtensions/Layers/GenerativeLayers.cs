using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ML.DeepExtensions.Networks.Generative;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Layers;

/// <summary>
/// A transposed ("fractionally strided") convolution: output size
/// <c>(in − 1)·stride − 2·padding + kernel + outputPadding</c>, as in PyTorch.
/// </summary>
/// <param name="Filters">Output channels.</param>
/// <param name="KernelSize">Square kernel size.</param>
/// <param name="Stride">Stride (the enlargement factor).</param>
/// <param name="Padding">Padding removed from each side of the output.</param>
/// <param name="OutputPadding">Extra rows and columns added at the bottom and right; below <see cref="Stride"/>.</param>
public sealed record TransposedConvolutionLayer(int Filters, int KernelSize, int Stride, int Padding, int OutputPadding) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        long height = ((input[1] - 1) * Stride) - (2 * Padding) + KernelSize + OutputPadding;
        long width = ((input[2] - 1) * Stride) - (2 * Padding) + KernelSize + OutputPadding;
        if (height < 1 || width < 1)
        {
            throw new LayerShapeException($"{Describe()} gives no output for a {input[1]}x{input[2]} input (shape [{Format(input)}]): the padding removes more than the kernel adds.");
        }

        return [Filters, height, width];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) =>
        nn.ConvTranspose2d(input[0], Filters, KernelSize, stride: Stride, padding: Padding, output_padding: OutputPadding);

    /// <inheritdoc />
    public override string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"ConvTranspose2D({Filters}, {KernelSize}x{KernelSize}, stride {Stride}, padding {Padding}{(OutputPadding > 0 ? $", output padding {OutputPadding}" : string.Empty)})");
}

/// <summary>Enlarges images by an integer factor.</summary>
/// <param name="Scale">Factor for height and width.</param>
/// <param name="Bilinear">Bilinear interpolation (align_corners = false) instead of nearest neighbour.</param>
public sealed record UpsamplingLayer(int Scale, bool Bilinear) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireImage(input, Describe());
        return [input[0], input[1] * Scale, input[2] * Scale];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new Upsampling(Scale, Bilinear);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Upsample({Scale}x, {(Bilinear ? "bilinear" : "nearest")})");
}

/// <summary>Reshapes each row to <see cref="Shape"/> (a generator's flat [F] to [C, H, W]); the element count must match.</summary>
/// <param name="Shape">The per-row output shape.</param>
public sealed record ReshapeLayer(long[] Shape) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        long have = input.Aggregate(1L, (a, b) => a * b);
        long want = Shape.Aggregate(1L, (a, b) => a * b);
        if (have != want)
        {
            throw new LayerShapeException($"{Describe()} cannot reshape [{Format(input)}] ({have} values) into {want} values.");
        }

        return [.. Shape];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new Reshape(Shape);

    /// <inheritdoc />
    public override string Describe() => $"Reshape([{Format(Shape)}])";

    /// <inheritdoc />
    public bool Equals(ReshapeLayer? other) => other is not null && Shape.SequenceEqual(other.Shape);

    /// <inheritdoc />
    public override int GetHashCode() => Shape.Aggregate(17, (h, d) => (h * 31) + d.GetHashCode());
}

/// <summary>Appends a learned vector for the class index held in the row's last value: [F + 1] → [F + <see cref="Dimensions"/>].</summary>
/// <param name="Classes">Number of classes.</param>
/// <param name="Dimensions">Length of each class vector.</param>
public sealed record LabelEmbeddingLayer(int Classes, int Dimensions) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireFlat(input, Describe());
        if (input[0] < 2)
        {
            throw new LayerShapeException($"{Describe()} needs the features and a class index in the last column, but the input has {input[0]} value(s).");
        }

        return [input[0] - 1 + Dimensions];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new LabelEmbedding(Classes, Dimensions);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"LabelEmbedding({Classes} classes, {Dimensions})");
}

/// <summary>Spectral normalisation of a convolution, transposed convolution or dense layer (see <see cref="SpectralNormalization"/>).</summary>
/// <param name="Inner">The normalised layer.</param>
public sealed record SpectralNormalizationLayer([property: JsonConverter(typeof(NetworkLayerJsonConverter))] NetworkLayer Inner) : NetworkLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        if (Inner is not (ConvolutionLayer or TransposedConvolutionLayer or DenseLayer))
        {
            throw new LayerShapeException($"Spectral normalisation wraps Conv2D, ConvTranspose2D or Dense, not {Inner.Describe()}.");
        }

        return Inner.OutputShape(input);
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new SpectralNormalization(Inner.Build(input));

    /// <inheritdoc />
    public override string Describe() => $"SpectralNorm({Inner.Describe()})";
}

/// <summary>Writes a nested layer with its type name, as <see cref="NetworkDescription"/> writes its layers.</summary>
internal sealed class NetworkLayerJsonConverter : JsonConverter<NetworkLayer>
{
    public override NetworkLayer Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var node = JsonNode.Parse(ref reader)?.AsObject() ?? throw new JsonException("A nested layer is empty.");
        string typeName = node["type"]?.GetValue<string>() ?? throw new JsonException("A nested layer has no type.");
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is null || !type.IsSubclassOf(typeof(NetworkLayer)))
        {
            throw new JsonException($"The nested layer type '{typeName}' is not a NetworkLayer of a loaded assembly.");
        }

        return (NetworkLayer)(node["value"].Deserialize(type) ?? throw new JsonException($"The nested layer '{typeName}' has no value."));
    }

    public override void Write(Utf8JsonWriter writer, NetworkLayer value, JsonSerializerOptions options)
    {
        var type = value.GetType();
        new JsonObject
        {
            ["type"] = $"{type.FullName}, {type.Assembly.GetName().Name}",
            ["value"] = JsonSerializer.SerializeToNode(value, type),
        }.WriteTo(writer);
    }
}
