using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.MLNet;

/// <summary>Wraps an exported ONNX graph in ML.NET's own transformers.</summary>
internal static class OnnxScoringChain
{
    /// <summary>
    /// ApplyOnnxModel (the model bytes are stored inside ML.NET's model zip), then the task's
    /// ML.NET scorer, then dropping the intermediate raw-output column.
    /// </summary>
    /// <param name="onnxModel">The graph: input <paramref name="inputColumn"/>, output <paramref name="rawColumn"/>.</param>
    /// <param name="inputColumn">The features column, also the graph's input name.</param>
    /// <param name="rawColumn">The graph's output name: the network's raw output vector.</param>
    /// <param name="data">Data with the training schema (not read; estimators need it to bind columns).</param>
    /// <param name="scorer">Creates the task's scorer over the ONNX-scored data.</param>
    public static ITransformer Build(byte[] onnxModel, string inputColumn, string rawColumn, IDataView data, Func<IDataView, ITransformer> scorer)
    {
        // A private MLContext builds the ML.NET transforms: ML.NET offers no public way to create its
        // catalogs from the caller's environment, and the transformers keep no tie to this context.
        var context = new MLContext(seed: 0);
        var onnx = CreateOnnxTransformer(context, onnxModel, rawColumn, inputColumn, data);
        var rawScored = onnx.Transform(data);
        var scoring = scorer(rawScored);
        var drop = context.Transforms.DropColumns(rawColumn).Fit(scoring.Transform(rawScored));
        return new TransformerChain<ITransformer>(onnx, scoring, drop);
    }

    /// <summary>
    /// ApplyOnnxModel over the bytes, retried once when ONNX Runtime rejects the file as an ORT-format
    /// model. ML.NET 5 writes the bytes to a temp file named by Path.GetRandomFileName(), whose random
    /// extension is ".ort" about once in 32,768 loads; ONNX Runtime then parses the ONNX protobuf as its
    /// own flatbuffer format and fails verification (dotnet/machinelearning#7339). A new name fixes it.
    /// </summary>
    private static Microsoft.ML.Transforms.Onnx.OnnxTransformer CreateOnnxTransformer(MLContext context, byte[] onnxModel, string rawColumn, string inputColumn, IDataView data)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var modelBytes = new MemoryStream(onnxModel, writable: false);
                return context.Transforms.ApplyOnnxModel([rawColumn], [inputColumn], modelBytes).Fit(data);
            }
            catch (InvalidOperationException e) when (attempt < 3 && IsOrtFormatMisread(e))
            {
            }
        }
    }

    internal static bool IsOrtFormatMisread(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current.Message.Contains("ORT model verification failed", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
