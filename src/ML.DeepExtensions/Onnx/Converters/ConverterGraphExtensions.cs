namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>Small building blocks shared by the converters.</summary>
internal static class ConverterGraphExtensions
{
    /// <summary>Adds a node whose output has the input's element type and shape (activations, normalizations).</summary>
    public static string AddShapePreservingNode(
        this OnnxExportContext context, string opType, IReadOnlyList<string> inputs, string hintSuffix, IEnumerable<OnnxAttribute>? attributes = null)
    {
        var output = context.Graph.AddNode(opType, inputs, attributes, context.NameHint(hintSuffix));
        context.KeepType(inputs[0], output);
        return output;
    }

    /// <summary>
    /// Adds a scalar constant of the same floating-point type as <paramref name="like"/> (float when
    /// unknown), so that it broadcasts against it without a type mismatch.
    /// </summary>
    public static string AddScalarLike(this OnnxExportContext context, string like, string hintSuffix, double value)
    {
        var elementType = context.Graph.TryGetType(like)?.ElementType ?? OnnxElementType.Float;
        return elementType switch
        {
            OnnxElementType.Float => context.Graph.AddInitializer(context.NameHint(hintSuffix), [(float)value], []),
            OnnxElementType.Double => context.Graph.AddInitializer(context.NameHint(hintSuffix), [value], []),
            _ => throw new NotSupportedException($"A floating-point constant cannot be combined with a {elementType} value ('{like}')."),
        };
    }
}
