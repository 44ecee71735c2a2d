using TorchSharp.Modules;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>Modules that are the identity at inference time: they add nothing to the graph.</summary>
internal static class PassThroughConverters
{
    public static string Identity(OnnxExportContext context, Identity module, string input) => input;

    /// <summary>Dropout only acts in training mode.</summary>
    public static string Dropout(OnnxExportContext context, Dropout module, string input) => input;

    /// <summary>Alpha dropout only acts in training mode.</summary>
    public static string AlphaDropout(OnnxExportContext context, AlphaDropout module, string input) => input;
}
