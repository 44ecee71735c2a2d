using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>Normalization layers in their inference form.</summary>
internal static class NormalizationConverters
{
    /// <summary>
    /// BatchNormalization (inference mode) with the running mean and variance; a non-affine module
    /// gets scale ones and bias zeros. Works for <c>[N, C]</c> and <c>[N, C, L]</c> inputs.
    /// </summary>
    /// <exception cref="NotSupportedException">The module does not track running statistics, so eval mode would use batch statistics.</exception>
    public static string BatchNorm1d(OnnxExportContext context, BatchNorm1d module, string input) =>
        BatchNormalization(context, module, input);

    /// <summary><c>(x - mean) · inverseStd</c> over the last dimension.</summary>
    public static string Standardization(OnnxExportContext context, Networks.Standardization module, string input)
    {
        var mean = context.Graph.AddInitializer(context.NameHint("mean"), module.Mean);
        var inverseStd = context.Graph.AddInitializer(context.NameHint("inverse_std"), module.InverseStd);
        var centered = context.AddShapePreservingNode("Sub", [input, mean], "centered");
        return context.AddShapePreservingNode("Mul", [centered, inverseStd], "standardized");
    }

    // Shared by BatchNorm1d and BatchNorm2d: ONNX BatchNormalization takes [N, C, ...].
    internal static string BatchNormalization(OnnxExportContext context, BatchNorm module, string input)
    {
        if (!module.track_running_stats || module.running_mean is null || module.running_var is null)
        {
            throw new NotSupportedException(
                $"Cannot export batch normalization {OnnxModuleExporter.Describe(module, context.ModulePath)}: it does not track " +
                "running statistics, so in eval mode it normalizes with each batch's own statistics, which an ONNX model scoring one row at a time cannot reproduce.");
        }

        var graph = context.Graph;
        string scale;
        string bias;
        if (module.affine && module.weight is not null && module.bias is not null)
        {
            scale = graph.AddInitializer(context.NameHint("weight"), module.weight);
            bias = graph.AddInitializer(context.NameHint("bias"), module.bias);
        }
        else
        {
            using var scope = torch.NewDisposeScope();
            var dtype = module.running_mean.dtype;
            scale = graph.AddInitializer(context.NameHint("weight"), ones(module.num_features, dtype));
            bias = graph.AddInitializer(context.NameHint("bias"), zeros(module.num_features, dtype));
        }

        var mean = graph.AddInitializer(context.NameHint("running_mean"), module.running_mean);
        var variance = graph.AddInitializer(context.NameHint("running_var"), module.running_var);
        return context.AddShapePreservingNode(
            "BatchNormalization", [input, scale, bias, mean, variance], "batch_norm", [OnnxAttribute.Float("epsilon", (float)module.eps)]);
    }
}
