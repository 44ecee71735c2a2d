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
    public static OnnxScoring Build(byte[] onnxModel, string inputColumn, string rawColumn, IDataView data, Func<IDataView, ITransformer> scorer) =>
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
    public static OnnxScoring Build(
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

        // From a file this chain owns: ML.NET 5 never deletes the temp copy it makes of model bytes
        // (its OnnxModel closes the file on Dispose but leaves it), so every Fit would leave one behind.
        var modelFile = TempModelFile.Write(onnxModel);
        Microsoft.ML.Transforms.Onnx.OnnxTransformer onnx;
        try
        {
            onnx = context.Transforms.ApplyOnnxModel([.. outputs], [.. inputs.Select(i => i.GraphInput)], modelFile.Path).Fit(current);
        }
        catch
        {
            modelFile.Dispose();
            throw;
        }

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

        return new OnnxScoring(new TransformerChain<ITransformer>([.. parts]), modelFile);
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

/// <summary>An ML.NET scoring chain and the ONNX file its OnnxTransformer reads; disposing frees both.</summary>
/// <param name="Transformer">The chain of ML.NET's own transformers (what gets saved).</param>
/// <param name="ModelFile">The chain's model file in the temp folder.</param>
internal sealed record OnnxScoring(ITransformer Transformer, TempModelFile ModelFile) : IDisposable
{
    /// <summary>Disposes the chain (ONNX Runtime closes the file), then deletes the file.</summary>
    public void Dispose()
    {
        (Transformer as IDisposable)?.Dispose();
        ModelFile.Dispose();
    }
}

/// <summary>
/// An ONNX model written to a new file in the temp folder, deleted on Dispose. The name ends in
/// ".tmp": ML.NET's own temp names have a random extension that is ".ort" about once in 32,768
/// loads, which makes ONNX Runtime parse the file as its flatbuffer format (dotnet/machinelearning#7339).
/// </summary>
internal sealed class TempModelFile : IDisposable
{
    private TempModelFile(string path) => Path = path;

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>Writes <paramref name="bytes"/> to a new temp file.</summary>
    public static TempModelFile Write(byte[] bytes)
    {
        string path = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
        }
        catch
        {
            File.Delete(path);
            throw;
        }

        return new TempModelFile(path);
    }

    /// <summary>Deletes the file; a file still held open elsewhere (Windows) is left to the temp folder's cleanup.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
