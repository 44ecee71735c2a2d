using System.Diagnostics;
using Microsoft.ML;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Layers;
using ML.DeepExtensions.Tests.MLNet;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Tests.TestData;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>
/// Every kind of graph the library writes passes the ONNX reference checker with full shape
/// inference: <c>onnx.checker.check_model(model, full_check=True)</c> of Debian's python3-onnx,
/// which .ci/run installs.
/// </summary>
[TestClass]
public sealed class OnnxReferenceCheckerTests
{
    private const string Python = "/usr/bin/python3";

    [TestMethod]
    public void EveryExportedGraphPassesTheReferenceChecker()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-checker-").FullName;
        try
        {
            var graphs = new Dictionary<string, byte[]>
            {
                ["two-input"] = MultiInputGraphTests.TwoInputGraph(),
            };
            var context = new MLContext(seed: 1);
            var tabular = TabularFixtures.Load(context, TabularFixtures.Rows(60));
            graphs["mlp-multiclass"] = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(
                new MlpMulticlassOptions { Epochs = 1, BatchNormalization = true, Dropout = 0.1 })).Fit(tabular).LastTransformer.OnnxModel.ToArray();
            graphs["mlp-binary"] = context.BinaryClassification.Trainers.Mlp(new MlpBinaryOptions { Epochs = 1, LabelColumnName = nameof(TabularFixtures.Row.IsPositive) })
                .Fit(tabular).OnnxModel.ToArray();
            graphs["mlp-regression"] = context.Regression.Trainers.Mlp(new MlpRegressionOptions { Epochs = 1, LabelColumnName = nameof(TabularFixtures.Row.Target) })
                .Fit(tabular).OnnxModel.ToArray();
            graphs["custom-layer"] = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(
                new MlpMulticlassOptions { Epochs = 1, Architecture = [Layer.Dense(8), new ScaledSoftsignLayer(2f)] })).Fit(tabular).LastTransformer.OnnxModel.ToArray();
            var images = context.Data.LoadFashionMnist(FashionMnistSplit.Test, Path.GetDirectoryName(DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz")), maxRows: 32);
            foreach (var (name, architecture) in new[] { ("lenet", Architectures.LeNet), ("vgg", Architectures.SmallVgg), ("resnet", Architectures.SmallResNet) })
            {
                graphs[name] = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
                {
                    Architecture = architecture, Epochs = 1, Data = { BatchSize = 16 },
                }).Fit(images).OnnxModel.ToArray();
            }

            var gan = context.Transforms.ImageGan(Generative.GanFixtures.Options(epochs: 1)).Fit(Generative.GanFixtures.Keyed(context));
            graphs["gan-generator"] = gan.GeneratorOnnxModel.ToArray();
            graphs["gan-discriminator"] = gan.DiscriminatorOnnxModel.ToArray();

            AddSequenceGraphs(context, graphs);
            foreach (var (name, bytes) in graphs)
            {
                File.WriteAllBytes(Path.Combine(directory, name + ".onnx"), bytes);
            }

            var (exitCode, output) = Check(directory);
            Assert.AreEqual(0, exitCode, output);
            foreach (var name in graphs.Keys)
            {
                StringAssert.Contains(output, $"ok {name}.onnx");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Text classifiers using every sequence layer, the forecaster, and bare token networks with each sequence pooling.</summary>
    private static void AddSequenceGraphs(MLContext context, Dictionary<string, byte[]> graphs)
    {
        var rows = ML.DeepExtensions.Tests.Sequence.TextFixtures.Rows(40);
        var text = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows));
        graphs["text-multiclass"] = context.MulticlassClassification.Trainers.TextClassifier(new ML.DeepExtensions.Sequence.TextMulticlassOptions
        {
            TextColumnName = "Text", Epochs = 1,
            Architecture = [Layer.Embedding(8), Layer.Conv1D(8, 3), Layer.Relu(), Layer.MaxPool1D(2), Layer.Lstm(8, layers: 2, bidirectional: true), Layer.Gru(8, bidirectional: true), Layer.SimpleRnn(8),
                Layer.SequencePooling(ML.DeepExtensions.Networks.Sequence.SequencePoolingMode.Attention)],
        }).Fit(text).OnnxModel.ToArray();
        graphs["text-binary"] = context.BinaryClassification.Trainers.TextClassifier(new ML.DeepExtensions.Sequence.TextBinaryOptions
        {
            TextColumnName = "Text", LabelColumnName = "IsPositive", Epochs = 1, Truncation = ML.DeepExtensions.Data.SequenceTruncation.KeepEnd,
            Architecture = [Layer.Embedding(8), Layer.Gru(8, bidirectional: true, returnSequences: false)],
        }).Fit(text).OnnxModel.ToArray();
        var series = context.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(t => new ML.DeepExtensions.Tests.Sequence.RecurrentForecasterTests.Point { Value = (float)Math.Sin(t) }));
        graphs["forecaster"] = context.Forecasting.ForecastByRecurrentNetwork(new ML.DeepExtensions.Sequence.RecurrentForecasterOptions { WindowSize = 6, Horizon = 2, Epochs = 1 })
            .Fit(series).Network.OnnxModel.ToArray();
        foreach (var mode in Enum.GetValues<ML.DeepExtensions.Networks.Sequence.SequencePoolingMode>())
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var network = NetworkBuilder.Build([Layer.Embedding(4, 10), Layer.Lstm(4), Layer.SequencePooling(mode)], [6], 2);
            network.eval();
            var graph = new ML.DeepExtensions.Onnx.OnnxGraphBuilder();
            graph.AddInput("ids", ML.DeepExtensions.Onnx.OnnxElementType.Int64, "N", "T");
            graph.AddOutput(new ML.DeepExtensions.Onnx.OnnxModuleExporter().Export(graph, network, "ids"), "output", ML.DeepExtensions.Onnx.OnnxElementType.Float, "N", 2);
            graphs[$"tokens-{mode.ToString().ToLowerInvariant()}"] = graph.ToBytes();
        }
    }

    private static (int ExitCode, string Output) Check(string directory)
    {
        const string script = """
            import glob, os, sys
            try:
                import onnx
            except ImportError:
                sys.exit("python3-onnx is not installed for /usr/bin/python3: apt-get install python3-onnx (.ci/run does)")
            for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx"))):
                onnx.checker.check_model(onnx.load(path), full_check=True)
                print("ok", os.path.basename(path))
            """;
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
