using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;

namespace ML.DeepExtensions.Scoring;

/// <summary>One OnnxTransformer of a model's transformer chain, with its place and its ONNX bytes.</summary>
/// <param name="Index">Its position in the flattened chain.</param>
/// <param name="Transformer">The ML.NET transformer.</param>
/// <param name="OnnxModel">The ONNX model bytes it scores with.</param>
internal sealed record OnnxStep(int Index, OnnxTransformer Transformer, byte[] OnnxModel);

/// <summary>
/// Reads the ONNX bytes out of a loaded ML.NET model without reflection: the model is saved to
/// memory with ML.NET's public <c>Model.Save</c>, and each OnnxTransformer's stored graph is read
/// from the zip at the directory ML.NET's chain layout gives it.
/// </summary>
/// <remarks>
/// ML.NET writes the outermost model under <c>TransformerChain/</c>; a chain writes its i-th
/// transformer under <c>Transform_{i:000}/</c>; an OnnxTransformer writes its model bytes to the
/// binary stream <c>OnnxModel</c> in its directory, as a 32-bit length followed by the bytes.
/// </remarks>
internal static class SavedModelOnnx
{
    private const string RootDirectory = "TransformerChain";
    internal const string OnnxEntryName = "OnnxModel";

    /// <summary>The chain flattened (nested chains expanded), each leaf with the zip directory it is saved in.</summary>
    public static IReadOnlyList<(ITransformer Transformer, string Directory)> Flatten(ITransformer model)
    {
        var leaves = new List<(ITransformer, string)>();
        Visit(model, RootDirectory, leaves);
        return leaves;
    }

    /// <summary>Finds every OnnxTransformer in the model and the ONNX bytes it holds.</summary>
    /// <param name="model">A loaded or freshly fitted model.</param>
    /// <param name="leaves">The flattened chain of <paramref name="model"/>.</param>
    /// <param name="savedModel">The model's zip bytes when already at hand; otherwise the model is saved to memory.</param>
    public static IReadOnlyList<OnnxStep> FindOnnxSteps(ITransformer model, IReadOnlyList<(ITransformer Transformer, string Directory)> leaves, byte[]? savedModel = null)
    {
        if (!leaves.Any(leaf => leaf.Transformer is OnnxTransformer))
        {
            return [];
        }

        if (savedModel is null)
        {
            using var buffer = new MemoryStream();
            new MLContext().Model.Save(model, null, buffer);
            savedModel = buffer.ToArray();
        }

        using var zip = new ZipArchive(new MemoryStream(savedModel, writable: false), ZipArchiveMode.Read);
        var entries = zip.Entries.ToDictionary(entry => entry.FullName.Replace('\\', '/'), StringComparer.Ordinal);
        var steps = new List<OnnxStep>();
        for (int i = 0; i < leaves.Count; i++)
        {
            if (leaves[i].Transformer is not OnnxTransformer onnx)
            {
                continue;
            }

            string name = $"{leaves[i].Directory}/{OnnxEntryName}";
            if (!entries.TryGetValue(name, out var entry))
            {
                throw new InvalidOperationException(
                    $"The saved model has no entry '{name}' for its ONNX transformer: ML.NET {typeof(MLContext).Assembly.GetName().Version} lays out model zips differently "
                    + "from the Microsoft.ML 5.0 this library supports.");
            }

            steps.Add(new OnnxStep(i, onnx, ReadLengthPrefixed(entry, name)));
        }

        return steps;
    }

    private static void Visit(ITransformer transformer, string directory, List<(ITransformer, string)> leaves)
    {
        // Our models save their scoring chain into their own directory.
        if (transformer is MLNet.ISavedAsChain wrapper)
        {
            Visit(wrapper.SavedTransformer, directory, leaves);
            return;
        }

        // TransformerChain<T> is the only public composite; it enumerates its transformers in order.
        if (transformer is IEnumerable<ITransformer> chain && transformer.GetType().IsGenericType
            && transformer.GetType().GetGenericTypeDefinition() == typeof(TransformerChain<>))
        {
            int i = 0;
            foreach (var child in chain)
            {
                Visit(child, $"{directory}/Transform_{i:000}", leaves);
                i++;
            }

            return;
        }

        leaves.Add((transformer, directory));
    }

    /// <summary>The ONNX bytes of an <c>OnnxModel</c> entry (ML.NET writes a 32-bit length, then the bytes).</summary>
    internal static byte[] ReadLengthPrefixed(ZipArchiveEntry entry, string name)
    {
        using var stream = entry.Open();
        using var reader = new BinaryReader(stream);
        int length = reader.ReadInt32();
        byte[] bytes = reader.ReadBytes(length);
        if (length <= 0 || bytes.Length != length)
        {
            throw new InvalidDataException($"The model zip's entry '{name}' is truncated or not an ONNX model stored by ML.NET.");
        }

        return bytes;
    }
}
