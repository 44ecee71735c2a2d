using TorchSharp.Modules;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>Flattens dimensions <c>start_dim..end_dim</c> (inclusive, negative from the end) into one.</summary>
internal static class FlattenConverter
{
    /// <summary>
    /// ONNX Flatten(axis=1) for the default <c>start_dim=1, end_dim=-1</c> (ONNX Flatten always
    /// yields rank 2, which matches torch only then); otherwise Reshape to
    /// <c>shape[..start] ++ [-1] ++ shape[end+1..]</c>, read at run time so symbolic dims work.
    /// </summary>
    public static string Flatten(OnnxExportContext context, Flatten module, string input)
    {
        var graph = context.Graph;
        var inputType = graph.TryGetType(input);
        long start = module.start_dim;
        long end = module.end_dim;
        if (inputType?.Rank == 0)
        {
            // torch flattens a scalar to shape [1].
            var one = graph.AddInitializer(context.NameHint("shape"), [1L], [1]);
            var reshaped = graph.AddNode("Reshape", [input, one], nameHint: context.NameHint("flatten"));
            graph.SetType(reshaped, new OnnxTensorType(inputType.ElementType, [1]));
            return reshaped;
        }

        if (inputType?.Rank is { } rank)
        {
            start = Normalize(start, rank, module, context);
            end = Normalize(end, rank, module, context);
            if (start > end)
            {
                throw new ArgumentException(
                    $"Flatten {OnnxModuleExporter.Describe(module, context.ModulePath)}: start_dim {module.start_dim} comes after end_dim {module.end_dim} for a rank-{rank} input.");
            }

            if (start == end)
            {
                return input;
            }
        }

        var flattensTrailing = end == -1 || inputType?.Rank is { } r && end == r - 1;
        string output;
        if (start == 1 && flattensTrailing)
        {
            output = graph.AddNode("Flatten", [input], [OnnxAttribute.Int("axis", 1)], context.NameHint("flatten"));
        }
        else
        {
            var pieces = new List<string>();
            if (start != 0)
            {
                pieces.Add(graph.AddNode("Shape", [input], [OnnxAttribute.Int("end", start)], context.NameHint("leading_dims")));
            }

            pieces.Add(graph.AddInitializer(context.NameHint("minus_one"), [-1L], [1]));
            if (!flattensTrailing)
            {
                pieces.Add(graph.AddNode("Shape", [input], [OnnxAttribute.Int("start", end + 1)], context.NameHint("trailing_dims")));
            }

            var shape = graph.AddNode("Concat", pieces, [OnnxAttribute.Int("axis", 0)], context.NameHint("flat_shape"));
            output = graph.AddNode("Reshape", [input, shape], nameHint: context.NameHint("flatten"));
        }

        if (inputType?.Dims is { } dims && start >= 0 && end >= start)
        {
            graph.SetType(output, new OnnxTensorType(inputType.ElementType, FlattenDims(dims, (int)start, (int)end)));
        }

        return output;
    }

    private static long Normalize(long dim, int rank, Flatten module, OnnxExportContext context)
    {
        var normalized = dim < 0 ? dim + rank : dim;
        if (normalized < 0 || normalized >= rank)
        {
            throw new ArgumentException(
                $"Flatten {OnnxModuleExporter.Describe(module, context.ModulePath)}: dimension {dim} is out of range for a rank-{rank} input.");
        }

        return normalized;
    }

    private static List<OnnxDim> FlattenDims(IReadOnlyList<OnnxDim> dims, int start, int end)
    {
        long product = 1;
        var allFixed = true;
        for (var i = start; i <= end && i < dims.Count; i++)
        {
            if (dims[i].Size is { } size)
            {
                product *= size;
            }
            else
            {
                allFixed = false;
            }
        }

        var result = new List<OnnxDim>(dims.Take(start));
        result.Add(allFixed ? OnnxDim.Fixed(product) : OnnxDim.Unknown);
        result.AddRange(dims.Skip(end + 1));
        return result;
    }
}
