using TorchSharp.Modules;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>Element-wise activations and the (log-)softmax over one dimension.</summary>
internal static class ActivationConverters
{
    // torch's tanh approximation of GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    private const double SqrtTwoOverPi = 0.7978845608028654;
    private const double GeluCubicCoefficient = 0.044715;

    public static string ReLU(OnnxExportContext context, ReLU module, string input) =>
        context.AddShapePreservingNode("Relu", [input], "relu");

    public static string LeakyReLU(OnnxExportContext context, LeakyReLU module, string input) =>
        context.AddShapePreservingNode("LeakyRelu", [input], "leaky_relu", [OnnxAttribute.Float("alpha", (float)module.negative_slope)]);

    public static string Elu(OnnxExportContext context, ELU module, string input) =>
        context.AddShapePreservingNode("Elu", [input], "elu", [OnnxAttribute.Float("alpha", (float)module.alpha)]);

    public static string Tanh(OnnxExportContext context, Tanh module, string input) =>
        context.AddShapePreservingNode("Tanh", [input], "tanh");

    public static string Sigmoid(OnnxExportContext context, Sigmoid module, string input) =>
        context.AddShapePreservingNode("Sigmoid", [input], "sigmoid");

    /// <summary>x·sigmoid(x).</summary>
    public static string SiLU(OnnxExportContext context, SiLU module, string input)
    {
        var sigmoid = context.AddShapePreservingNode("Sigmoid", [input], "sigmoid");
        return context.AddShapePreservingNode("Mul", [input, sigmoid], "silu");
    }

    /// <summary>Opset 17 has no Gelu operator: the exact form 0.5·x·(1 + erf(x/√2)), or torch's tanh approximation.</summary>
    public static string Gelu(OnnxExportContext context, GELU module, string input) =>
        module.approximate switch
        {
            GELU.Approximate.none => ExactGelu(context, input),
            GELU.Approximate.tanh => TanhGelu(context, input),
            _ => throw new NotSupportedException(
                $"GELU module {OnnxModuleExporter.Describe(module, context.ModulePath)} uses approximation '{module.approximate}', which the exporter does not know."),
        };

    /// <summary>Softmax over the module's dimension (opset 13+ Softmax normalizes over that one axis, as torch does).</summary>
    public static string Softmax(OnnxExportContext context, Softmax module, string input) =>
        context.AddShapePreservingNode("Softmax", [input], "softmax", [OnnxAttribute.Int("axis", module.dim)]);

    public static string LogSoftmax(OnnxExportContext context, LogSoftmax module, string input) =>
        context.AddShapePreservingNode("LogSoftmax", [input], "log_softmax", [OnnxAttribute.Int("axis", module.dim)]);

    private static string ExactGelu(OnnxExportContext context, string input)
    {
        var sqrtTwo = context.AddScalarLike(input, "sqrt2", Math.Sqrt(2.0));
        var scaled = context.AddShapePreservingNode("Div", [input, sqrtTwo], "gelu_scaled");
        var erf = context.AddShapePreservingNode("Erf", [scaled], "gelu_erf");
        return HalfXTimesOnePlus(context, input, erf);
    }

    private static string TanhGelu(OnnxExportContext context, string input)
    {
        var coefficient = context.AddScalarLike(input, "gelu_coefficient", GeluCubicCoefficient);
        var sqrtTwoOverPi = context.AddScalarLike(input, "sqrt_2_over_pi", SqrtTwoOverPi);
        var square = context.AddShapePreservingNode("Mul", [input, input], "gelu_square");
        var cube = context.AddShapePreservingNode("Mul", [square, input], "gelu_cube");
        var scaledCube = context.AddShapePreservingNode("Mul", [cube, coefficient], "gelu_scaled_cube");
        var inner = context.AddShapePreservingNode("Add", [input, scaledCube], "gelu_inner");
        var scaled = context.AddShapePreservingNode("Mul", [inner, sqrtTwoOverPi], "gelu_scaled");
        var tanh = context.AddShapePreservingNode("Tanh", [scaled], "gelu_tanh");
        return HalfXTimesOnePlus(context, input, tanh);
    }

    // 0.5·x·(1 + t), shared by both GELU forms.
    private static string HalfXTimesOnePlus(OnnxExportContext context, string input, string t)
    {
        var one = context.AddScalarLike(input, "one", 1.0);
        var half = context.AddScalarLike(input, "half", 0.5);
        var onePlus = context.AddShapePreservingNode("Add", [t, one], "gelu_one_plus");
        var product = context.AddShapePreservingNode("Mul", [input, onePlus], "gelu_x_times");
        return context.AddShapePreservingNode("Mul", [product, half], "gelu");
    }
}
