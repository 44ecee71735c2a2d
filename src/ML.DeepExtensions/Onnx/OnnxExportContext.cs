using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// What a converter gets besides its module: the graph being built, the module's path in the
/// network (for value names and error messages), and a way to export child modules.
/// </summary>
public sealed class OnnxExportContext
{
    private readonly OnnxModuleExporter _exporter;

    internal OnnxExportContext(OnnxModuleExporter exporter, OnnxGraphBuilder graph, string modulePath, string nameStem)
    {
        _exporter = exporter;
        Graph = graph;
        ModulePath = modulePath;
        NameStem = nameStem;
    }

    /// <summary>The graph being built.</summary>
    public OnnxGraphBuilder Graph { get; }

    /// <summary>
    /// The module's path from the exported root, child names joined by dots as in
    /// <c>named_modules()</c> (for example <c>"encoder.2"</c>); empty for the root module.
    /// </summary>
    public string ModulePath { get; }

    /// <summary>The prefix of this module's value names: its path, or a name derived from its type for the root.</summary>
    public string NameStem { get; }

    /// <summary>A name hint for a value of this module, for example <c>NameHint("weight")</c> gives <c>"encoder.2.weight"</c>.</summary>
    public string NameHint(string suffix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(suffix);
        return $"{NameStem}.{suffix}";
    }

    /// <summary>Exports a child module through the exporter's converters.</summary>
    /// <param name="child">The child module.</param>
    /// <param name="childName">The child's name in this module (its path segment).</param>
    /// <param name="input">The name of the value holding the child's input.</param>
    /// <returns>The name of the value holding the child's output.</returns>
    /// <exception cref="NotSupportedException">The child, or one of its descendants, has no converter.</exception>
    public string ExportChild(nn.Module child, string childName, string input)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentException.ThrowIfNullOrEmpty(childName);
        var path = ModulePath.Length == 0 ? childName : $"{ModulePath}.{childName}";
        return _exporter.ExportModule(Graph, child, input, path);
    }

    /// <summary>The context of a child module exported by hand (a converter that writes its child's nodes itself, with its own values).</summary>
    internal OnnxExportContext ChildContext(string childName)
    {
        var path = ModulePath.Length == 0 ? childName : $"{ModulePath}.{childName}";
        return new OnnxExportContext(_exporter, Graph, path, path);
    }

    /// <summary>Records that <paramref name="output"/> has the same element type and shape as <paramref name="input"/>, when that is known.</summary>
    public void KeepType(string input, string output)
    {
        if (Graph.TryGetType(input) is { } type)
        {
            Graph.SetType(output, type);
        }
    }
}
