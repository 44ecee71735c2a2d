using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>
/// The 2-D window geometry shared by the convolution and pooling converters: reading TorchSharp's
/// per-axis settings, ONNX <c>pads</c>, and the output sizes torch computes (to record value shapes).
/// </summary>
internal static class SpatialGeometry
{
    /// <summary>
    /// A TorchSharp per-axis setting as (height, width): <see langword="null"/> or empty means
    /// <paramref name="fallback"/>, one value applies to both axes, as libtorch does.
    /// </summary>
    public static (long Height, long Width) Pair(long[]? values, (long Height, long Width) fallback, string setting, nn.Module module, OnnxExportContext context) =>
        values switch
        {
            null or [] => fallback,
            [var both] => (both, both),
            [var height, var width] => (height, width),
            _ => throw new NotSupportedException(
                $"Module {OnnxModuleExporter.Describe(module, context.ModulePath)} has {values.Length} values for {setting} " +
                $"([{string.Join(", ", values)}]); a 2-D layer takes one or two."),
        };

    /// <summary>ONNX <c>pads</c> for two spatial axes: [top, left, bottom, right].</summary>
    public static long[] Pads(long top, long left, long bottom, long right) => [top, left, bottom, right];

    /// <summary>
    /// Records a rank-4 output type <c>[N, channels, H', W']</c> when the input is known to be rank 4;
    /// a spatial size is computed only when the input's is fixed.
    /// </summary>
    public static void SetImageType(
        OnnxExportContext context, string input, string output, OnnxDim? channels, Func<long, long>? height, Func<long, long>? width)
    {
        if (context.Graph.TryGetType(input) is not { Dims: { Count: 4 } dims } type)
        {
            return;
        }

        context.Graph.SetType(output, new OnnxTensorType(
            type.ElementType,
            [dims[0], channels ?? dims[1], Map(dims[2], height), Map(dims[3], width)]));
    }

    /// <summary>torch's convolution output size: ⌊(size + padding − dilation·(kernel − 1) − 1) / stride⌋ + 1.</summary>
    public static long ConvolutionOutput(long size, long kernel, long stride, long padBegin, long padEnd, long dilation) =>
        FloorDiv(size + padBegin + padEnd - (dilation * (kernel - 1)) - 1, stride) + 1;

    /// <summary>
    /// torch's pooling output size. With <paramref name="ceilMode"/> the division rounds up, but a
    /// last window that would start in the end padding is dropped.
    /// </summary>
    public static long PoolingOutput(long size, long kernel, long stride, long padBegin, long padEnd, long dilation, bool ceilMode)
    {
        var span = size + padBegin + padEnd - (dilation * (kernel - 1)) - 1;
        var output = (ceilMode ? FloorDiv(span + stride - 1, stride) : FloorDiv(span, stride)) + 1;
        if (ceilMode && (output - 1) * stride >= size + padBegin)
        {
            output--;
        }

        return output;
    }

    private static OnnxDim Map(OnnxDim dim, Func<long, long>? size) =>
        size is null ? dim : dim.Size is { } fixedSize ? OnnxDim.Fixed(Math.Max(0, size(fixedSize))) : OnnxDim.Unknown;

    private static long FloorDiv(long numerator, long denominator) =>
        (long)Math.Floor(numerator / (double)denominator);
}
