using TorchSharp.Modules;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>Converters for modules that only compose other modules.</summary>
internal static class ContainerConverters
{
    /// <summary>Each child in order, the output of one feeding the next.</summary>
    public static string Sequential(OnnxExportContext context, Sequential module, string input)
    {
        var current = input;
        foreach (var (name, child) in module.named_children())
        {
            current = context.ExportChild(child, name, current);
        }

        return current;
    }
}
