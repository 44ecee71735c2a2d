namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Implemented by a network module that writes its own inference computation into an ONNX graph.
/// <see cref="OnnxModuleExporter"/> uses it for modules without a registered converter.
/// </summary>
/// <remarks>
/// The graph must compute what the module's <c>forward</c> computes in eval mode. A module with
/// child modules that should go through the exporter's converters (for example a residual block)
/// is better served by a converter registered with <see cref="OnnxModuleExporter.Register{TModule}"/>,
/// which receives an <see cref="OnnxExportContext"/> to export its children.
/// </remarks>
public interface IOnnxExportable
{
    /// <summary>Adds this module's computation to <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the value holding the module's input.</param>
    /// <returns>The name of the value holding the module's output.</returns>
    string ExportOnnx(OnnxGraphBuilder graph, string input);
}
