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
