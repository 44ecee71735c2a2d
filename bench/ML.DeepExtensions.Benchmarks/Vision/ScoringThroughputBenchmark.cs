using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// Scoring images per second of one trained network: the saved model loaded into a fresh MLContext
/// and run through <c>Transform</c> (ML.NET's OnnxTransformer scores row by row), against ONNX
/// Runtime on a batched export of the same network. Interleaved rounds, medians.
/// </summary>
internal static class ScoringThroughputBenchmark
{
    public static Command Create()
    {
        var architecture = VisionBenchmarkSetup.ArchitectureOption();
        var rows = VisionBenchmarkSetup.RowsOption();
        var rounds = VisionBenchmarkSetup.RoundsOption();
        var batchSize = VisionBenchmarkSetup.BatchSizeOption();
        return BenchmarkCommand.Create("vision-scoring-throughput", "Scoring images/s: loaded ML.NET model vs batched ONNX Runtime, interleaved.",
            [architecture, rows, rounds, batchSize],
            parse => Run(parse.GetValue(architecture)!, parse.GetValue(rows), parse.GetValue(rounds), parse.GetValue(batchSize)));
    }

    public static BenchmarkReport Run(string architecture, int rows, int rounds, int batchSize)
    {
        var context = new MLContext(seed: 1);
        var train = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, 2000);
        var test = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Test, rows);
        var options = new ImageClassifierOptions { Architecture = VisionBenchmarkSetup.Architecture(architecture), Epochs = 1, Seed = 1 };
        var model = context.MulticlassClassification.Trainers.ImageClassifier(options).Fit(train);

        using var saved = new MemoryStream();
        context.Model.Save(model, train.Schema, saved);
        saved.Position = 0;
        var loaded = new MLContext().Model.Load(saved, out _);

        using var session = new InferenceSession(BatchedGraph(model.Network));
        var pixels = test.GetColumn<float[]>("Features").SelectMany(p => p).ToArray();

        var mlnet = new List<double>();
        var onnx = new List<double>();
        for (int round = 0; round <= rounds; round++)
        {
            double a = MLNet(loaded, test, rows);
            double b = OnnxRuntime(session, pixels, rows, batchSize);
            BenchmarkCommand.Progress($"round {round}: ML.NET {a:F0}, ONNX Runtime batched {b:F0} images/s");
            if (round > 0)
            {
                mlnet.Add(a);
                onnx.Add(b);
            }
        }

        var table = new ReportTable(("Path", false), ("Median images/s", true), ("Rounds", false));
        table.AddRow("Loaded ML.NET model, `Transform` + cursor over `Score` (row by row)", Statistics.Number(Statistics.Median(mlnet), 0), Statistics.Runs(mlnet, 0));
        table.AddRow($"ONNX Runtime, batched graph, batch {batchSize}", Statistics.Number(Statistics.Median(onnx), 0), Statistics.Runs(onnx, 0));
        return new BenchmarkReport()
            .Paragraph($"Architecture `{architecture}`, {rows:N0} test images, {rounds} interleaved rounds after a warm-up round, ONNX Runtime default threading.")
            .Table(table)
            .Paragraph($"Ratio ML.NET / batched ONNX Runtime: **{Statistics.Ratio(mlnet, onnx):F3}**");
    }

    private static double MLNet(ITransformer model, IDataView test, int rows)
    {
        var stopwatch = Stopwatch.StartNew();
        var scored = model.Transform(test);
        using var cursor = scored.GetRowCursor([scored.Schema["Score"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
        var score = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref score);
        }

        return rows / stopwatch.Elapsed.TotalSeconds;
    }

    private static double OnnxRuntime(InferenceSession session, float[] pixels, int rows, int batchSize)
    {
        var stopwatch = Stopwatch.StartNew();
        for (int start = 0; start < rows; start += batchSize)
        {
            int count = Math.Min(batchSize, rows - start);
            var input = new DenseTensor<float>(pixels.AsMemory(start * 784, count * 784), [count, 1, 28, 28]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("images", input)]);
            _ = results[0].AsTensor<float>().Length;
        }

        return rows / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>The same network exported with a batch dimension: images [N, 1, 28, 28] → probabilities [N, 10].</summary>
    private static byte[] BatchedGraph(nn.Module network)
    {
        var graph = new OnnxGraphBuilder("batched");
        graph.AddInput("images", OnnxElementType.Float, "N", 1, 28, 28);
        string logits = new OnnxModuleExporter().Export(graph, network, "images");
        string probabilities = graph.AddNode("Softmax", [logits], [OnnxAttribute.Int("axis", -1)], "softmax");
        graph.AddOutput(probabilities, "probabilities", OnnxElementType.Float, "N", 10);
        return graph.ToBytes();
    }
}
