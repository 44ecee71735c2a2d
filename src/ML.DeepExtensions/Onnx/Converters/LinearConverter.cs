using TorchSharp;
using TorchSharp.Modules;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary><c>y = x·Wᵀ + b</c> over the last dimension.</summary>
internal static class LinearConverter
{
    /// <summary>
    /// Gemm (with <c>transB=1</c>, so the weight is stored as TorchSharp holds it) when the input is
    /// known to be rank 2; otherwise MatMul with the transposed weight, then Add, which broadcasts
    /// over any leading dimensions.
    /// </summary>
    public static string Linear(OnnxExportContext context, Linear module, string input)
    {
        var graph = context.Graph;
        var inputType = graph.TryGetType(input);
        var bias = module.bias is null ? null : graph.AddInitializer(context.NameHint("bias"), module.bias);

        string output;
        if (inputType?.Rank == 2)
        {
            var weight = graph.AddInitializer(context.NameHint("weight"), module.weight!);
            var inputs = bias is null ? new[] { input, weight } : [input, weight, bias];
            output = graph.AddNode("Gemm", inputs, [OnnxAttribute.Int("transB", 1)], context.NameHint("gemm"));
        }
        else
        {
            string weightT;
            using (var scope = torch.NewDisposeScope())
            {
                weightT = graph.AddInitializer(context.NameHint("weight_t"), module.weight!.detach().t());
            }

            output = graph.AddNode("MatMul", [input, weightT], nameHint: context.NameHint(bias is null ? "linear" : "matmul"));
            if (bias is not null)
            {
                output = graph.AddNode("Add", [output, bias], nameHint: context.NameHint("linear"));
            }
        }

        if (inputType?.Dims is { Count: > 0 } dims)
        {
            graph.SetType(output, new OnnxTensorType(inputType.ElementType, [.. dims.Take(dims.Count - 1), module.out_features]));
        }

        return output;
    }
}
