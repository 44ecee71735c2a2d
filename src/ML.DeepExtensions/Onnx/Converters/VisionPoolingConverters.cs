using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>2-D pooling over NCHW images: <c>MaxPool2d</c>, <c>AvgPool2d</c> and <c>AdaptiveAvgPool2d</c> to 1×1.</summary>
internal static class VisionPoolingConverters
{
    /// <summary>MaxPool with the module's kernel, stride, padding, dilation and ceil mode.</summary>
    public static string MaxPool2d(OnnxExportContext context, MaxPool2d module, string input)
    {
        var kernel = SpatialGeometry.Pair(module.kernel_size, (1, 1), "kernel_size", module, context);
        var stride = SpatialGeometry.Pair(module.stride, kernel, "stride", module, context);
        var padding = SpatialGeometry.Pair(module.padding, (0, 0), "padding", module, context);
        var dilation = SpatialGeometry.Pair(module.dilation, (1, 1), "dilation", module, context);
        var output = context.Graph.AddNode(
            "MaxPool",
            [input],
            [
                OnnxAttribute.Ints("kernel_shape", [kernel.Height, kernel.Width]),
                OnnxAttribute.Ints("strides", [stride.Height, stride.Width]),
                OnnxAttribute.Ints("pads", SpatialGeometry.Pads(padding.Height, padding.Width, padding.Height, padding.Width)),
                OnnxAttribute.Ints("dilations", [dilation.Height, dilation.Width]),
                OnnxAttribute.Int("ceil_mode", module.ceil_mode ? 1 : 0),
            ],
            context.NameHint("max_pool"));
        SetPooledType(context, input, output, kernel, stride, padding, dilation, module.ceil_mode);
        return output;
    }

    /// <summary>AveragePool with the module's kernel, stride, padding, ceil mode and <c>count_include_pad</c>.</summary>
    /// <exception cref="NotSupportedException">The module has a <c>divisor_override</c>.</exception>
    public static string AvgPool2d(OnnxExportContext context, AvgPool2d module, string input)
    {
        if (module.divisor_override is { } divisor)
        {
            throw new NotSupportedException(
                $"Cannot export AvgPool2d {OnnxModuleExporter.Describe(module, context.ModulePath)}: divisor_override ({divisor}) " +
                "has no ONNX AveragePool equivalent.");
        }

        var kernel = SpatialGeometry.Pair(module.kernel_size, (1, 1), "kernel_size", module, context);
        var stride = SpatialGeometry.Pair(module.stride, kernel, "stride", module, context);
        var padding = SpatialGeometry.Pair(module.padding, (0, 0), "padding", module, context);
        var output = context.Graph.AddNode(
            "AveragePool",
            [input],
            [
                OnnxAttribute.Ints("kernel_shape", [kernel.Height, kernel.Width]),
                OnnxAttribute.Ints("strides", [stride.Height, stride.Width]),
                OnnxAttribute.Ints("pads", SpatialGeometry.Pads(padding.Height, padding.Width, padding.Height, padding.Width)),
                OnnxAttribute.Int("ceil_mode", module.ceil_mode ? 1 : 0),
                OnnxAttribute.Int("count_include_pad", module.count_include_pad ? 1 : 0),
            ],
            context.NameHint("avg_pool"));
        SetPooledType(context, input, output, kernel, stride, padding, (1, 1), module.ceil_mode);
        return output;
    }

    /// <summary>GlobalAveragePool when the output size is 1×1, the form classifier heads use.</summary>
    /// <exception cref="NotSupportedException">Any other output size.</exception>
    public static string AdaptiveAvgPool2d(OnnxExportContext context, AdaptiveAvgPool2d module, string input)
    {
        if (module.output_size is not ([1] or [1, 1]))
        {
            throw new NotSupportedException(
                $"Cannot export AdaptiveAvgPool2d {OnnxModuleExporter.Describe(module, context.ModulePath)} with output size " +
                $"[{string.Join(", ", module.output_size ?? [])}]: only output size 1 (global average pooling) is supported. " +
                "Use AvgPool2d with a fixed kernel for other sizes.");
        }

        var output = context.Graph.AddNode("GlobalAveragePool", [input], nameHint: context.NameHint("global_avg_pool"));
        if (context.Graph.TryGetType(input) is { Dims: { Count: 4 } dims } type)
        {
            context.Graph.SetType(output, new OnnxTensorType(type.ElementType, [dims[0], dims[1], 1, 1]));
        }

        return output;
    }

    private static void SetPooledType(
        OnnxExportContext context,
        string input,
        string output,
        (long Height, long Width) kernel,
        (long Height, long Width) stride,
        (long Height, long Width) padding,
        (long Height, long Width) dilation,
        bool ceilMode) =>
        SpatialGeometry.SetImageType(
            context,
            input,
            output,
            null,
            h => SpatialGeometry.PoolingOutput(h, kernel.Height, stride.Height, padding.Height, padding.Height, dilation.Height, ceilMode),
            w => SpatialGeometry.PoolingOutput(w, kernel.Width, stride.Width, padding.Width, padding.Width, dilation.Width, ceilMode));
}
