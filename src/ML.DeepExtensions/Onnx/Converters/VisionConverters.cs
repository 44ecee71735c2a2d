using ML.DeepExtensions.Networks.Vision;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>
/// Convolutional-network layers on NCHW images: <c>Conv2d</c>, <c>BatchNorm2d</c>, <c>Dropout2d</c>,
/// <c>ReLU6</c>, <c>Hardswish</c>, and the library's <see cref="Networks.Vision"/> modules.
/// Pooling layers are in <see cref="VisionPoolingConverters"/>.
/// </summary>
internal static class VisionConverters
{
    /// <summary>
    /// Conv with the module's kernel, stride, dilation and groups. Zero padding (explicit, or
    /// <c>Padding.Same</c>/<c>Valid</c>, whose odd total torch puts at the end) goes into Conv's
    /// <c>pads</c>; reflect and replicate padding become a Pad node (mode <c>reflect</c> / <c>edge</c>) before it.
    /// </summary>
    /// <exception cref="NotSupportedException">Circular padding (opset 17's Pad cannot wrap around).</exception>
    public static string Conv2d(OnnxExportContext context, Conv2d module, string input)
    {
        var graph = context.Graph;
        var kernel = SpatialGeometry.Pair(module.kernel_size, (1, 1), "kernel_size", module, context);
        var stride = SpatialGeometry.Pair(module.stride, (1, 1), "stride", module, context);
        var dilation = SpatialGeometry.Pair(module.dilation, (1, 1), "dilation", module, context);
        var pads = ConvolutionPads(context, module, kernel, dilation);

        var padded = input;
        switch (module.padding_mode)
        {
            // TorchSharp pads with the value 0 in Constant mode, which is zero padding.
            case PaddingModes.Zeros or PaddingModes.Constant:
                break;
            case PaddingModes.Reflect:
                padded = AddSpatialPad(context, input, pads, "reflect");
                pads = SpatialGeometry.Pads(0, 0, 0, 0);
                break;
            case PaddingModes.Replicate:
                padded = AddSpatialPad(context, input, pads, "edge");
                pads = SpatialGeometry.Pads(0, 0, 0, 0);
                break;
            default:
                throw new NotSupportedException(
                    $"Cannot export Conv2d {OnnxModuleExporter.Describe(module, context.ModulePath)}: padding mode {module.padding_mode} " +
                    "has no ONNX opset 17 equivalent (Pad learned to wrap around only in opset 19). Use Zeros, Reflect or Replicate.");
        }

        var weight = graph.AddInitializer(context.NameHint("weight"), module.weight);
        var inputs = module.bias is null
            ? new[] { padded, weight }
            : [padded, weight, graph.AddInitializer(context.NameHint("bias"), module.bias)];
        var output = graph.AddNode(
            "Conv",
            inputs,
            [
                OnnxAttribute.Ints("kernel_shape", [kernel.Height, kernel.Width]),
                OnnxAttribute.Ints("strides", [stride.Height, stride.Width]),
                OnnxAttribute.Ints("pads", pads),
                OnnxAttribute.Ints("dilations", [dilation.Height, dilation.Width]),
                OnnxAttribute.Int("group", module.groups),
            ],
            context.NameHint("conv"));

        SpatialGeometry.SetImageType(
            context,
            padded,
            output,
            module.out_channels,
            h => SpatialGeometry.ConvolutionOutput(h, kernel.Height, stride.Height, pads[0], pads[2], dilation.Height),
            w => SpatialGeometry.ConvolutionOutput(w, kernel.Width, stride.Width, pads[1], pads[3], dilation.Width));
        return output;
    }

    /// <summary>BatchNormalization (inference mode) with the running statistics; see <see cref="NormalizationConverters.BatchNormalization"/>.</summary>
    public static string BatchNorm2d(OnnxExportContext context, BatchNorm2d module, string input) =>
        NormalizationConverters.BatchNormalization(context, module, input);

    /// <summary>Channel dropout only acts in training mode.</summary>
    public static string Dropout2d(OnnxExportContext context, Dropout2d module, string input) => input;

    /// <summary>min(max(x, 0), 6) as Clip.</summary>
    public static string ReLU6(OnnxExportContext context, ReLU6 module, string input)
    {
        var zero = context.AddScalarLike(input, "min", 0.0);
        var six = context.AddScalarLike(input, "max", 6.0);
        return context.AddShapePreservingNode("Clip", [input, zero, six], "relu6");
    }

    /// <summary>x·ReLU6(x + 3)/6, which is ONNX HardSwish (alpha 1/6, beta 0.5).</summary>
    public static string Hardswish(OnnxExportContext context, Hardswish module, string input) =>
        context.AddShapePreservingNode("HardSwish", [input], "hardswish");

    /// <summary>
    /// The block's children through the exporter (conv → bn → Relu → conv → bn, and the projection
    /// shortcut when there is one), then Add and Relu.
    /// </summary>
    public static string ResidualBlock(OnnxExportContext context, ResidualBlock module, string input)
    {
        var main = ExportOwnChild(context, module, module.Conv1, input);
        main = ExportOwnChild(context, module, module.BatchNorm1, main);
        main = context.AddShapePreservingNode("Relu", [main], "relu1");
        main = ExportOwnChild(context, module, module.Conv2, main);
        main = ExportOwnChild(context, module, module.BatchNorm2, main);
        var shortcut = module.Shortcut is null ? input : ExportOwnChild(context, module, module.Shortcut, input);
        var sum = context.AddShapePreservingNode("Add", [main, shortcut], "add");
        return context.AddShapePreservingNode("Relu", [sum], "relu");
    }

    /// <summary>GlobalAveragePool (<c>[N, C, 1, 1]</c>), then Flatten to <c>[N, C]</c>.</summary>
    public static string GlobalAveragePooling(OnnxExportContext context, GlobalAveragePooling module, string input)
    {
        var graph = context.Graph;
        var pooled = graph.AddNode("GlobalAveragePool", [input], nameHint: context.NameHint("pool"));
        var output = graph.AddNode("Flatten", [pooled], [OnnxAttribute.Int("axis", 1)], context.NameHint("flatten"));
        if (graph.TryGetType(input) is { Dims: { Count: 4 } dims } type)
        {
            graph.SetType(pooled, new OnnxTensorType(type.ElementType, [dims[0], dims[1], 1, 1]));
            graph.SetType(output, new OnnxTensorType(type.ElementType, [dims[0], dims[1]]));
        }

        return output;
    }

    /// <summary>Mul by the scale, Sub the <c>[C, 1, 1]</c> means, Div by the <c>[C, 1, 1]</c> standard deviations: torch's order of operations.</summary>
    public static string ImageNormalization(OnnxExportContext context, ImageNormalization module, string input)
    {
        var graph = context.Graph;
        var scale = graph.AddInitializer(context.NameHint("scale"), module.Scale);
        var mean = graph.AddInitializer(context.NameHint("mean"), module.Mean);
        var std = graph.AddInitializer(context.NameHint("std"), module.Std);
        var scaled = context.AddShapePreservingNode("Mul", [input, scale], "scaled");
        var centered = context.AddShapePreservingNode("Sub", [scaled, mean], "centered");
        return context.AddShapePreservingNode("Div", [centered, std], "normalized");
    }

    /// <summary>[top, left, bottom, right] as torch pads: explicit, Valid (none) or Same (extra at the end for an odd total).</summary>
    private static long[] ConvolutionPads(OnnxExportContext context, Conv2d module, (long Height, long Width) kernel, (long Height, long Width) dilation)
    {
        switch (module.padding_type)
        {
            case Padding.Valid:
                return SpatialGeometry.Pads(0, 0, 0, 0);
            case Padding.Same:
                var totalHeight = dilation.Height * (kernel.Height - 1);
                var totalWidth = dilation.Width * (kernel.Width - 1);
                return SpatialGeometry.Pads(totalHeight / 2, totalWidth / 2, totalHeight - (totalHeight / 2), totalWidth - (totalWidth / 2));
            case null:
                var padding = SpatialGeometry.Pair(module.padding, (0, 0), "padding", module, context);
                return SpatialGeometry.Pads(padding.Height, padding.Width, padding.Height, padding.Width);
            default:
                throw new NotSupportedException(
                    $"Cannot export Conv2d {OnnxModuleExporter.Describe(module, context.ModulePath)}: unknown padding type {module.padding_type}.");
        }
    }

    /// <summary>Pad over H and W only (ONNX Pad takes begin values for all axes, then end values).</summary>
    private static string AddSpatialPad(OnnxExportContext context, string input, long[] pads, string mode)
    {
        var graph = context.Graph;
        var padsValue = graph.AddInitializer(context.NameHint("pads"), [0L, 0L, pads[0], pads[1], 0L, 0L, pads[2], pads[3]], [8]);
        var output = graph.AddNode("Pad", [input, padsValue], [OnnxAttribute.String("mode", mode)], context.NameHint("pad"));
        SpatialGeometry.SetImageType(context, input, output, null, h => h + pads[0] + pads[2], w => w + pads[1] + pads[3]);
        return output;
    }

    /// <summary>Exports one of <paramref name="parent"/>'s registered children under the name it has in the state dictionary.</summary>
    private static string ExportOwnChild(OnnxExportContext context, nn.Module parent, nn.Module child, string input)
    {
        foreach (var (name, candidate) in parent.named_children())
        {
            if (ReferenceEquals(candidate, child))
            {
                return context.ExportChild(child, name, input);
            }
        }

        throw new InvalidOperationException(
            $"Module {OnnxModuleExporter.Describe(parent, context.ModulePath)} does not list '{child.GetName()}' among its children.");
    }
}
