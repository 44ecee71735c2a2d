using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tests.MLNet;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>
/// Networks fine-tuned from each kind of pretrained source (this library's own model, a PyTorch
/// state_dict, a PyTorch-exported ONNX file) score the same in test/ML.DeepExtensions.ModelLoadCheck,
/// a process that references only ML.NET and ONNX Runtime.
/// </summary>
[TestClass]
public sealed class FineTunedModelInAnotherProcessTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "TestData", "PyTorch");

    [TestMethod]
    [DataRow("this library's model")]
    [DataRow("PyTorch state_dict")]
    [DataRow("PyTorch ONNX export")]
    public void AFineTunedModelScoresTheSameWithoutThisLibrary(string source)
    {
        var context = new MLContext(seed: 1);
        var pretrained = source switch
        {
            "this library's model" => PretrainedNetwork.FromTransformer(context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
            {
                Architecture = FineTuningTests.SmallCnn, Epochs = 2, Seed = 1, Data = { BatchSize = 20 },
            }).Fit(TinyImages.Load(context, TinyImages.LargeRows(60, FineTuningTests.OldClasses, seed: 1), FineTuningTests.OldClasses))),
            "PyTorch state_dict" => PretrainedNetwork.FromPyTorchStateDict(Path.Combine(Fixtures, "tiny_resnet.pt"), PyTorchStateDictTests.TinyResNet(channels: 1, size: 16),
                PyTorchStateDictTests.Torchvision with { AdaptInputChannels = true, PixelScale = 1 / 255f }),
            _ => PretrainedNetwork.FromOnnxFile(Path.Combine(Fixtures, "small_cnn.onnx")),
        };
        var train = TinyImages.Load(context, TinyImages.LargeRows(60, FineTuningTests.NewClasses, seed: 3), FineTuningTests.NewClasses);
        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = pretrained },
            Optimizer = new OptimizerOptions { LearningRate = 0.01 }, Epochs = 2, Seed = 2, Data = { BatchSize = 20 },
        }).Fit(train);

        var test = TinyImages.LargeRows(12, FineTuningTests.NewClasses, seed: 4);
        var expected = model.Transform(TinyImages.Load(context, test, FineTuningTests.NewClasses)).GetColumn<float[]>("Score").ToArray();
        var output = SavedModelInAnotherProcessTests.ScoreElsewhere(context, model, train.Schema, [.. test.Select(r => r.Features)]);

        var header = output[0].Split('\t').ToList();
        Assert.HasCount(test.Count + 1, output);
        for (int i = 0; i < test.Count; i++)
        {
            var scores = output[i + 1].Split('\t')[header.IndexOf("Score")].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.IsLessThanOrEqualTo(1e-5, scores.Zip(expected[i], (a, b) => Math.Abs(a - b)).Max(), $"row {i} of the model fine-tuned from a {source}");
        }
    }
}
