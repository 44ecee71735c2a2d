using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Writes the eval-mode computation of one module type into an ONNX graph.
/// </summary>
/// <typeparam name="TModule">The exact module type the converter handles.</typeparam>
/// <param name="context">The graph, the module's path in the network, and a way to export child modules.</param>
/// <param name="module">The module to convert.</param>
/// <param name="input">The name of the value holding the module's input.</param>
/// <returns>The name of the value holding the module's output.</returns>
public delegate string OnnxModuleConverter<in TModule>(OnnxExportContext context, TModule module, string input)
    where TModule : nn.Module;
