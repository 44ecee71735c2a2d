using ML.DeepExtensions.Networks.Generative;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>The layers generative networks add: transposed convolution, upsampling, reshape, label embedding, spectral normalisation.</summary>
internal static class GenerativeConverters
{
    /// <summary>
    /// ConvTranspose with explicit <c>pads</c> and <c>output_padding</c>. ONNX's output size is then
    /// <c>stride·(in − 1) + output_padding + dilation·(kernel − 1) + 1 − pad_begin − pad_end</c>,
    /// exactly torch's. Setting <c>output_shape</c> instead would make ONNX derive the pads itself
    /// (SAME_UPPER-style, extra padding at the end), which differs from torch for odd totals.
    /// </summary>
    public static string ConvTranspose2d(OnnxExportContext context, ConvTranspose2d module, string input) =>
        ConvTranspose2dWithWeight(context, module, module.weight!, input);

    /// <summary>Nearest: Resize with <c>asymmetric</c> coordinates and <c>floor</c> rounding; bilinear: <c>half_pixel</c> (torch's align_corners = false).</summary>
    public static string Upsampling(OnnxExportContext context, Upsampling module, string input)
    {
        var graph = context.Graph;
        var scales = graph.AddInitializer(context.NameHint("scales"), [1f, 1f, module.Scale, module.Scale], [4]);
        OnnxAttribute[] attributes = module.Bilinear
            ? [OnnxAttribute.String("mode", "linear"), OnnxAttribute.String("coordinate_transformation_mode", "half_pixel")]
            :
            [
                OnnxAttribute.String("mode", "nearest"), OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
                OnnxAttribute.String("nearest_mode", "floor"),
            ];
        var output = graph.AddNode("Resize", [input, string.Empty, scales], attributes, context.NameHint("resize"));
        SpatialGeometry.SetImageType(context, input, output, null, h => h * module.Scale, w => w * module.Scale);
        return output;
    }

    /// <summary>Reshape to <c>[0, ..shape]</c>: 0 copies the batch dimension.</summary>
    public static string Reshape(OnnxExportContext context, Reshape module, string input)
    {
        var graph = context.Graph;
        var shape = graph.AddInitializer(context.NameHint("shape"), [0L, .. module.Shape], [module.Shape.Count + 1]);
        var output = graph.AddNode("Reshape", [input, shape], nameHint: context.NameHint("reshape"));
        if (graph.TryGetType(input) is { Dims.Count: > 0 } type)
        {
            graph.SetType(output, new OnnxTensorType(type.ElementType, [type.Dims[0], .. module.Shape.Select(d => (OnnxDim)d)]));
        }

        return output;
    }

    /// <summary>
    /// Split <c>[N, F + 1]</c> into the features and the class column, Cast the class to Int64, Gather
    /// its vector from the table (<c>[N, 1, D]</c>), Flatten to <c>[N, D]</c> and Concat.
    /// </summary>
    public static string LabelEmbedding(OnnxExportContext context, LabelEmbedding module, string input)
    {
        var graph = context.Graph;
        var (features, label) = SplitLast(context, input);
        var index = graph.AddNode("Cast", [label], [OnnxAttribute.Int("to", (long)OnnxElementType.Int64)], context.NameHint("class_index"));
        var table = graph.AddInitializer(context.NameHint("embedding.weight"), module.Weight);
        var gathered = graph.AddNode("Gather", [table, index], [OnnxAttribute.Int("axis", 0)], context.NameHint("class_vector3d"));
        var vectors = graph.AddNode("Flatten", [gathered], [OnnxAttribute.Int("axis", 1)], context.NameHint("class_vector"));
        var output = graph.AddNode("Concat", [features, vectors], [OnnxAttribute.Int("axis", 1)], context.NameHint("with_class"));
        if (graph.TryGetType(input) is { Dims: { Count: 2 } dims } type)
        {
            var width = dims[1].Size is { } size ? OnnxDim.Fixed(size - 1 + module.Dimensions) : OnnxDim.Unknown;
            graph.SetType(output, new OnnxTensorType(type.ElementType, [dims[0], width]));
        }

        return output;
    }

    /// <summary>The wrapped layer's converter with the normalised weight <c>W / σ</c> (from the stored power-iteration vectors).</summary>
    public static string SpectralNormalization(OnnxExportContext context, SpectralNormalization module, string input)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var weight = module.NormalizedWeight();
        var inner = context.NameHint("module");
        return module.Layer switch
        {
            ConvTranspose2d transposed => ConvTranspose2dWithWeight(Child(context, "module"), transposed, weight, input),
            Conv2d conv => ExportWithWeight(context, conv, conv.weight!, weight, input),
            Linear linear => ExportWithWeight(context, linear, linear.weight!, weight, input),
            _ => throw new NotSupportedException($"Spectral normalisation of {module.Layer.GetType().Name} at {inner} cannot be exported."),
        };
    }

    private static string ConvTranspose2dWithWeight(OnnxExportContext context, ConvTranspose2d module, Tensor weightValue, string input)
    {
        var graph = context.Graph;
        if (module.padding_mode is not (PaddingModes.Zeros or PaddingModes.Constant))
        {
            throw new NotSupportedException(
                $"Cannot export ConvTranspose2d {OnnxModuleExporter.Describe(module, context.ModulePath)}: only zero padding exists for transposed convolutions in ONNX.");
        }

        var kernel = SpatialGeometry.Pair(module.kernel_size, (1, 1), "kernel_size", module, context);
        var stride = SpatialGeometry.Pair(module.stride, (1, 1), "stride", module, context);
        var dilation = SpatialGeometry.Pair(module.dilation, (1, 1), "dilation", module, context);
        var padding = SpatialGeometry.Pair(module.padding, (0, 0), "padding", module, context);
        var outputPadding = SpatialGeometry.Pair(module.output_padding, (0, 0), "output_padding", module, context);
        var weight = graph.AddInitializer(context.NameHint("weight"), weightValue);
        var inputs = module.bias is null
            ? new[] { input, weight }
            : [input, weight, graph.AddInitializer(context.NameHint("bias"), module.bias)];
        var output = graph.AddNode(
            "ConvTranspose",
            inputs,
            [
                OnnxAttribute.Ints("kernel_shape", [kernel.Height, kernel.Width]),
                OnnxAttribute.Ints("strides", [stride.Height, stride.Width]),
                OnnxAttribute.Ints("pads", SpatialGeometry.Pads(padding.Height, padding.Width, padding.Height, padding.Width)),
                OnnxAttribute.Ints("output_padding", [outputPadding.Height, outputPadding.Width]),
                OnnxAttribute.Ints("dilations", [dilation.Height, dilation.Width]),
                OnnxAttribute.Int("group", module.groups),
            ],
            context.NameHint("conv_transpose"));
        SpatialGeometry.SetImageType(
            context,
            input,
            output,
            module.out_channels,
            h => TransposedOutput(h, kernel.Height, stride.Height, padding.Height, outputPadding.Height, dilation.Height),
            w => TransposedOutput(w, kernel.Width, stride.Width, padding.Width, outputPadding.Width, dilation.Width));
        return output;
    }

    /// <summary>torch's (and, with explicit pads, ONNX's) transposed-convolution output size.</summary>
    internal static long TransposedOutput(long size, long kernel, long stride, long padding, long outputPadding, long dilation) =>
        ((size - 1) * stride) - (2 * padding) + (dilation * (kernel - 1)) + outputPadding + 1;

    // Conv2d and Linear go through their own converters with the normalised weight in place of the
    // raw one for the duration of the export; the raw values are put back afterwards.
    private static string ExportWithWeight(OnnxExportContext context, nn.Module layer, Tensor parameter, Tensor normalized, string input)
    {
        using var saved = parameter.detach().clone();
        parameter.detach().copy_(normalized);
        try
        {
            return context.ExportChild(layer, "module", input);
        }
        finally
        {
            parameter.detach().copy_(saved);
        }
    }

    private static OnnxExportContext Child(OnnxExportContext context, string name) => context.ChildContext(name);

    private static (string Features, string Label) SplitLast(OnnxExportContext context, string input)
    {
        var graph = context.Graph;
        var starts = graph.AddInitializer(context.NameHint("zero"), [0L], [1]);
        var lastStart = graph.AddInitializer(context.NameHint("minus_one"), [-1L], [1]);
        var end = graph.AddInitializer(context.NameHint("end"), [long.MaxValue], [1]);
        var axes = graph.AddInitializer(context.NameHint("axes"), [1L], [1]);
        var features = graph.AddNode("Slice", [input, starts, lastStart, axes], nameHint: context.NameHint("features"));
        var label = graph.AddNode("Slice", [input, lastStart, end, axes], nameHint: context.NameHint("label"));
        if (graph.TryGetType(input) is { Dims: { Count: 2 } dims } type)
        {
            var width = dims[1].Size is { } size ? OnnxDim.Fixed(size - 1) : OnnxDim.Unknown;
            graph.SetType(features, new OnnxTensorType(type.ElementType, [dims[0], width]));
            graph.SetType(label, new OnnxTensorType(type.ElementType, [dims[0], 1]));
        }

        return (features, label);
    }
}
