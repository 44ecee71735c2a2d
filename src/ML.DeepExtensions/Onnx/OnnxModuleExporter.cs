using ML.DeepExtensions.Onnx.Converters;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Writes a TorchSharp network into an <see cref="OnnxGraphBuilder"/> as its eval-mode (inference)
/// computation, one converter per module type.
/// </summary>
/// <remarks>
/// <para>
/// The export always describes inference, whatever the module's <c>training</c> flag: dropout is the
/// identity and batch normalization uses its running statistics. The module is not modified.
/// Parameters are copied into the graph as initializers (from any device).
/// </para>
/// <para>
/// A module is converted by, in order: a converter registered for its exact type (see
/// <see cref="Register{TModule}"/>), then its own <see cref="IOnnxExportable"/> implementation.
/// Base types are not considered, because a subclass may change <c>forward</c>.
/// </para>
/// <para>
/// Built in: <c>Sequential</c>, <c>Linear</c>, <c>ReLU</c>, <c>LeakyReLU</c>, <c>ELU</c>, <c>GELU</c>,
/// <c>SiLU</c>, <c>Tanh</c>, <c>Sigmoid</c>, <c>Softmax</c>, <c>LogSoftmax</c>, <c>Dropout</c>,
/// <c>AlphaDropout</c>, <c>Identity</c>, <c>Flatten</c>, <c>BatchNorm1d</c>,
/// <see cref="Networks.Standardization"/>; for images <c>Conv2d</c>, <c>MaxPool2d</c>, <c>AvgPool2d</c>,
/// <c>AdaptiveAvgPool2d</c> (output size 1), <c>BatchNorm2d</c>, <c>Dropout2d</c>, <c>ReLU6</c>,
/// <c>Hardswish</c>, <see cref="Networks.Vision.ResidualBlock"/>, <see cref="Networks.Vision.GlobalAveragePooling"/>
/// and <see cref="Networks.Vision.ImageNormalization"/>; for generative networks <c>ConvTranspose2d</c>,
/// <see cref="Networks.Generative.Upsampling"/>, <see cref="Networks.Generative.Reshape"/>,
/// <see cref="Networks.Generative.LabelEmbedding"/> and <see cref="Networks.Generative.SpectralNormalization"/>. Converters assume a leading batch dimension where the
/// TorchSharp module does (for example <c>BatchNorm1d</c> takes <c>[N, C]</c> or <c>[N, C, L]</c>).
/// </para>
/// <para>An instance is not thread-safe while converters are being registered.</para>
/// </remarks>
public sealed class OnnxModuleExporter
{
    private readonly Dictionary<Type, Func<OnnxExportContext, nn.Module, string, string>> _converters = [];

    /// <summary>Creates an exporter with the built-in converters.</summary>
    public OnnxModuleExporter()
        : this(includeBuiltInConverters: true)
    {
    }

    /// <summary>Creates an exporter, with or without the built-in converters.</summary>
    /// <param name="includeBuiltInConverters">Whether to register the built-in converters.</param>
    public OnnxModuleExporter(bool includeBuiltInConverters)
    {
        if (includeBuiltInConverters)
        {
            BuiltInConverters.RegisterAll(this);
        }
    }

    /// <summary>The module types with a registered converter.</summary>
    public IReadOnlyCollection<Type> SupportedModuleTypes => _converters.Keys;

    /// <summary>Registers (or replaces) the converter for modules of exactly type <typeparamref name="TModule"/>.</summary>
    /// <typeparam name="TModule">The module type.</typeparam>
    /// <param name="converter">The converter.</param>
    /// <returns>This exporter, for chaining.</returns>
    public OnnxModuleExporter Register<TModule>(OnnxModuleConverter<TModule> converter)
        where TModule : nn.Module
    {
        ArgumentNullException.ThrowIfNull(converter);
        _converters[typeof(TModule)] = (context, module, input) => converter(context, (TModule)module, input);
        return this;
    }

    /// <summary>Adds the eval-mode computation of <paramref name="module"/> to <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="module">The network (or a single layer).</param>
    /// <param name="inputName">The value holding the network's input, usually a graph input.</param>
    /// <returns>The name of the value holding the network's output; declare it with <see cref="OnnxGraphBuilder.AddOutput(string, string, OnnxElementType, OnnxDim[])"/>.</returns>
    /// <exception cref="NotSupportedException">A module in the network has no converter; the message names its type and path.</exception>
    public string Export(OnnxGraphBuilder graph, nn.Module module, string inputName)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(module);
        if (!graph.IsDefined(inputName))
        {
            throw new ArgumentException($"'{inputName}' is not a value of the graph.", nameof(inputName));
        }

        return ExportModule(graph, module, inputName, modulePath: string.Empty);
    }

    internal string ExportModule(OnnxGraphBuilder graph, nn.Module module, string input, string modulePath)
    {
        var stem = modulePath.Length > 0 ? modulePath : module.GetType().Name.ToLowerInvariant();
        var context = new OnnxExportContext(this, graph, modulePath, stem);
        if (_converters.TryGetValue(module.GetType(), out var converter))
        {
            return converter(context, module, input);
        }

        if (module is IOnnxExportable exportable)
        {
            return exportable.ExportOnnx(graph, input);
        }

        throw new NotSupportedException(
            $"Cannot export module {Describe(module, modulePath)} to ONNX: no converter is registered for type " +
            $"{module.GetType().FullName}. Implement {nameof(IOnnxExportable)} on the module or register a converter " +
            $"with {nameof(OnnxModuleExporter)}.{nameof(Register)}.");
    }

    internal static string Describe(nn.Module module, string modulePath) =>
        modulePath.Length == 0
            ? $"'{module.GetName()}' (the root module)"
            : $"'{modulePath}' (named '{module.GetName()}')";
}
