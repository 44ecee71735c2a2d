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
    public static ITransformer Build(byte[] onnxModel, string inputColumn, string rawColumn, IDataView data, Func<IDataView, ITransformer> scorer) =>
        Build(onnxModel, [OnnxInput.Column(inputColumn)], [rawColumn], data, scorer, dropAfterScoring: [rawColumn]);

    /// <summary>
    /// The general chain: for each key-typed input, a conversion of its key values to UInt32 under the
    /// graph input's name; ApplyOnnxModel with any number of inputs and outputs; an optional ML.NET
    /// scorer (only tasks that have one: classifiers, regressors); then dropping the helper and raw columns.
    /// </summary>
    /// <param name="onnxModel">The graph; its input and output names are the column names.</param>
    /// <param name="inputs">The graph inputs and the columns that feed them.</param>
    /// <param name="outputs">The graph outputs, which become columns.</param>
    /// <param name="data">Data with the input schema (not read).</param>
    /// <param name="scorer">The task's scorer over the ONNX-scored data, or null to keep the graph's outputs as they are.</param>
    /// <param name="dropAfterScoring">Output columns to drop at the end (raw outputs a scorer has consumed).</param>
    public static ITransformer Build(
        byte[] onnxModel, IReadOnlyList<OnnxInput> inputs, IReadOnlyList<string> outputs, IDataView data,
        Func<IDataView, ITransformer>? scorer = null, IReadOnlyList<string>? dropAfterScoring = null)
    {
        // A private MLContext builds the ML.NET transforms: ML.NET offers no public way to create its
        // catalogs from the caller's environment, and the transformers keep no tie to this context.
        var context = new MLContext(seed: 0);
        var parts = new List<ITransformer>();
        var current = data;
        var helperColumns = new List<string>();
        foreach (var input in inputs.Where(i => i.GraphInput != i.SourceColumn))
        {
            var convert = context.Transforms.Conversion.ConvertType(input.GraphInput, input.SourceColumn, DataKind.UInt32).Fit(current);
            parts.Add(convert);
            current = convert.Transform(current);
            helperColumns.Add(input.GraphInput);
        }

        var onnx = CreateOnnxTransformer(context, onnxModel, [.. outputs], [.. inputs.Select(i => i.GraphInput)], current);
        parts.Add(onnx);
        current = onnx.Transform(current);
        if (scorer is not null)
        {
            var scoring = scorer(current);
            parts.Add(scoring);
            current = scoring.Transform(current);
        }

        string[] drop = [.. helperColumns, .. dropAfterScoring ?? []];
        if (drop.Length > 0)
        {
            parts.Add(context.Transforms.DropColumns(drop).Fit(current));
        }

        return new TransformerChain<ITransformer>([.. parts]);
    }

    /// <summary>
    /// ApplyOnnxModel over the bytes, retried once when ONNX Runtime rejects the file as an ORT-format
    /// model. ML.NET 5 writes the bytes to a temp file named by Path.GetRandomFileName(), whose random
    /// extension is ".ort" about once in 32,768 loads; ONNX Runtime then parses the ONNX protobuf as its
    /// own flatbuffer format and fails verification (dotnet/machinelearning#7339). A new name fixes it.
    /// </summary>
    private static Microsoft.ML.Transforms.Onnx.OnnxTransformer CreateOnnxTransformer(MLContext context, byte[] onnxModel, string[] outputColumns, string[] inputColumns, IDataView data)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var modelBytes = new MemoryStream(onnxModel, writable: false);
                return context.Transforms.ApplyOnnxModel(outputColumns, inputColumns, modelBytes).Fit(data);
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

/// <summary>
/// A graph input and the column that feeds it. A key-typed column (token ids from MapValueToKey, a
/// label) reaches the graph as its raw key values in UInt32 — 1-based, 0 for missing — under a helper
/// column named after the graph input, so the graph decides what 0 means (an unknown token, say).
/// </summary>
/// <param name="GraphInput">The graph input's name.</param>
/// <param name="SourceColumn">The column that feeds it.</param>
internal sealed record OnnxInput(string GraphInput, string SourceColumn)
{
    /// <summary>A Single (or Int64) column that feeds the graph input of the same name.</summary>
    public static OnnxInput Column(string name) => new(name, name);

    /// <summary>A key column converted to its UInt32 key values for the graph input <c>{column}.keys</c> (the graph casts them to Int64).</summary>
    public static OnnxInput KeyValues(string column) => new($"{column}.keys", column);
}
