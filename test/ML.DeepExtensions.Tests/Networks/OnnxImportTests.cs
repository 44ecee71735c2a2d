using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx.Proto;
using ML.DeepExtensions.Tests.Onnx;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>An ONNX file exported by PyTorch (TestData/PyTorch/make_onnx_fixture.py) imported as a trainable network.</summary>
[TestClass]
public sealed class OnnxImportTests
{
    private static readonly string SmallCnn = Path.Combine(AppContext.BaseDirectory, "TestData", "PyTorch", "small_cnn.onnx");

    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-onnx-import-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    public void APyTorchExportedCnnComputesWhatOnnxRuntimeComputesOnTheOriginalFile()
    {
        var imported = PretrainedNetwork.FromOnnxFile(SmallCnn);

        CollectionAssert.AreEqual(new long[] { 1, 16, 16 }, imported.Description.InputShape.ToArray());
        Assert.AreEqual(5, imported.Description.Outputs, "the last Gemm (fc) becomes the output layer");
        var random = new Random(4);
        var inputs = Enumerable.Range(0, 3 * 256).Select(_ => (float)(random.NextDouble() * 3)).ToArray();
        var (expected, shape) = OnnxRuntimeRunner.RunFloat(File.ReadAllBytes(SmallCnn), "input", inputs, [3, 1, 16, 16], "logits");
        CollectionAssert.AreEqual(new long[] { 3, 5 }, shape);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var actual = imported.Network.forward(tensor(inputs, [3, 1, 16, 16])).data<float>().ToArray();
        double max = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsLessThanOrEqualTo(1e-4, max, $"imported network vs ONNX Runtime on the original file: max abs difference {max}");
        Assert.IsTrue(imported.Network.named_parameters().Any(p => p.name == "layer0.conv1_weight" && p.parameter.requires_grad));
        Assert.IsTrue(imported.Network.named_buffers().Any(b => b.name == "layer0.bn1_running_mean"), "batch-norm statistics are buffers");
    }

    [TestMethod]
    public void ConstantsSharedThroughIdentityNodesBecomeTensorsOfTheirOwn()
    {
        // torch.onnx.export shares equal initializers between layers through Identity nodes (a fresh
        // resnet18's batch norms all start at ones and zeros); a running mean reached that way is a buffer.
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(SmallCnn));
        var batchNorm = model.Graph.Node.First(n => n.OpType == "BatchNormalization");
        model.Graph.Node.Insert(0, new NodeProto { OpType = "Identity", Name = "share_mean", Input = { batchNorm.Input[3] }, Output = { "shared_mean" } });
        batchNorm.Input[3] = "shared_mean";
        byte[] bytes = model.ToByteArray();

        var imported = PretrainedNetwork.FromOnnxModel(bytes, "the edited model");
        Assert.IsTrue(imported.Network.named_buffers().Any(b => b.name == "layer0.shared_mean"));
        var inputs = Enumerable.Range(0, 2 * 256).Select(i => (float)(i % 17) / 5).ToArray();
        var (expected, _) = OnnxRuntimeRunner.RunFloat(bytes, "input", inputs, [2, 1, 16, 16], "logits");
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var actual = imported.Network.forward(tensor(inputs, [2, 1, 16, 16])).data<float>().ToArray();
            Assert.IsLessThanOrEqualTo(1e-4, expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max());
        }

        imported.Network.train();
        imported.Network.forward(tensor(inputs, [2, 1, 16, 16])).sum().backward();
        Assert.IsNotNull(imported.Network.named_parameters().First(p => p.name == "layer0.conv1_weight").parameter.grad, "training mode backpropagates through the imported graph");
    }

    [TestMethod]
    public void AnUnsupportedOperatorIsNamedWithItsNode()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(SmallCnn));
        var sigmoid = model.Graph.Node.First(n => n.OpType == "Sigmoid");
        sigmoid.OpType = "Erf";
        var error = Assert.ThrowsExactly<NotSupportedException>(() => PretrainedNetwork.FromOnnxModel(model.ToByteArray(), "the edited model"));
        StringAssert.Contains(error.Message, "'Erf'");
        StringAssert.Contains(error.Message, $"node '{sigmoid.Name}'");

        var notOnnx = Path.Combine(_directory, "notes.onnx");
        File.WriteAllText(notOnnx, "not a model");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromOnnxFile(notOnnx)).Message, notOnnx);
    }

    [TestMethod]
    public void AnImportedNetworkFineTunesInAnMLNetPipelineSavesAndRebuilds()
    {
        var context = new MLContext(seed: 1);
        var imported = PretrainedNetwork.FromOnnxFile(SmallCnn);
        var train = TinyImages.Load(context, TinyImages.LargeRows(120, FineTuningTests.NewClasses, seed: 3), FineTuningTests.NewClasses);
        var test = TinyImages.Load(context, TinyImages.LargeRows(100, FineTuningTests.NewClasses, seed: 4), FineTuningTests.NewClasses);
        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = imported },
            FreezeBatchNormStatistics = false,
            Optimizer = new OptimizerOptions { LearningRate = 0.01 }, Epochs = 10, Seed = 2, Data = { BatchSize = 20 },
        }).Fit(train);

        var scored = model.Transform(test);
        double accuracy = context.MulticlassClassification.Evaluate(scored).MicroAccuracy;
        Assert.IsGreaterThan(0.6, accuracy, $"accuracy {accuracy}");
        Assert.IsFalse(FineTuningTests.Identical(model.Network.state_dict()["layer0.conv1_weight"], imported.Network.state_dict()["layer0.conv1_weight"]), "the imported layers train");

        string zip = Path.Combine(_directory, "imported.zip");
        context.Model.Save(model, train.Schema, zip);
        var loaded = new MLContext().Model.Load(zip, out _);
        var before = scored.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var after = loaded.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        Assert.IsLessThanOrEqualTo(1e-5, before.Zip(after, (a, b) => Math.Abs(a - b)).Max(), "the saved model scores the same without TorchSharp");

        var rebuilt = PretrainedNetwork.FromModelFile(zip);
        var pixels = test.GetColumn<float[]>("Features").Take(10).SelectMany(p => p).ToArray();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        CollectionAssert.AreEqual(model.Network.forward(tensor(pixels, [10, 1, 16, 16])).data<float>().ToArray(),
            rebuilt.Network.forward(tensor(pixels, [10, 1, 16, 16])).data<float>().ToArray(), "the fine-tuned imported network rebuilds from its zip");
    }
}
