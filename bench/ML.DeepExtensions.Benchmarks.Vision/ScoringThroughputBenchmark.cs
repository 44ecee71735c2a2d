using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
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
    public static string Run(string architecture, int rows, int rounds, int batchSize)
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
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: ML.NET {a:F0}, ONNX Runtime batched {b:F0} images/s"));
            if (round > 0)
            {
                mlnet.Add(a);
                onnx.Add(b);
            }
        }

        double mlnetMedian = VisionBenchmarkSetup.Median(mlnet);
        double onnxMedian = VisionBenchmarkSetup.Median(onnx);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Architecture `{architecture}`, {rows:N0} test images, {rounds} interleaved rounds after a warm-up round, ONNX Runtime default threading; {VisionBenchmarkSetup.Machine()}; load average {VisionBenchmarkSetup.LoadAverage()} at the end.");
        report.AppendLine();
        report.AppendLine("| Path | Median images/s | Rounds |");
        report.AppendLine("|---|---:|---|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| Loaded ML.NET model, `Transform` + cursor over `Score` (row by row) | {mlnetMedian:F0} | {string.Join(", ", mlnet.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| ONNX Runtime, batched graph, batch {batchSize} | {onnxMedian:F0} | {string.Join(", ", onnx.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))} |");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Ratio ML.NET / batched ONNX Runtime: **{mlnetMedian / onnxMedian:F3}**");
        return report.ToString();
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
