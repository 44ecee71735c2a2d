using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>PyTorch state_dicts (torch.save and safetensors, made by TestData/PyTorch/make_fixtures.py) loaded into torchvision-named ResNets.</summary>
[TestClass]
public sealed class PyTorchStateDictTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "TestData", "PyTorch");

    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-pytorch-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    internal static NetworkDescription TinyResNet(long channels = 3, long size = 32, int outputs = 5, int[]? blocks = null) => new()
    {
        InputShape = [channels, size, size],
        Layers = TorchvisionResNet.Architecture([4, 8, 16, 32], blocks ?? [1, 1, 1, 1]),
        Outputs = outputs,
        Normalization = InputNormalization.Image,
    };

    internal static readonly PyTorchStateDictOptions Torchvision = new() { ParameterNames = TorchvisionResNet.ParameterName };

    [TestMethod]
    [DataRow("tiny_resnet.pt")]
    [DataRow("tiny_resnet.safetensors")]
    public void ATorchvisionStyleResNetComputesWhatPyTorchComputed(string file)
    {
        var network = PretrainedNetwork.FromPyTorchStateDict(Path.Combine(Fixtures, file), TinyResNet(), Torchvision);

        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "tiny_resnet_expected.json")));
        var logits = expected.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var actual = Forward(network.Network, FormulaInputs(), [2, 3, 32, 32]);
        double max = logits.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsLessThanOrEqualTo(1e-4, max, $"PyTorch 1.13 vs TorchSharp: max abs difference {max}");
    }

    [TestMethod]
    public void ResNet18HasAnEntryOfTheSameShapeForEveryEntryOfTorchvisionsResNet18()
    {
        var description = new NetworkDescription { InputShape = [3, 224, 224], Layers = TorchvisionResNet.ResNet18, Outputs = 1000, Normalization = InputNormalization.Image };
        using var scope = NewDisposeScope();
        var ours = description.Build().state_dict()
            .Where(kv => !kv.Key.StartsWith(LayerNames.Normalize + ".", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => string.Join("x", kv.Value.shape));
        var torchvision = File.ReadAllLines(Path.Combine(Fixtures, "resnet18_state_dict.txt")).Select(l => l.Split(' ')).ToList();
        Assert.HasCount(ours.Count, torchvision, "one entry for each of torchvision's 122");
        foreach (var entry in torchvision)
        {
            string name = TorchvisionResNet.ParameterName(entry[0]);
            Assert.IsTrue(ours.TryGetValue(name, out var shape), $"torchvision's '{entry[0]}' ({name}) is missing");
            Assert.AreEqual(entry[1], shape, $"shape of '{entry[0]}'");
        }
    }

    [TestMethod]
    public void AMismatchedNetworkNamesEveryMissingUnexpectedAndMisShapedEntry()
    {
        string path = Path.Combine(Fixtures, "tiny_resnet.pt");
        var error = Assert.ThrowsExactly<InvalidDataException>(() =>
            PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet(outputs: 7, blocks: [2, 1, 1, 1]), Torchvision));
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, "layer1.1.conv1.weight [4, 4, 3, 3]", "missing: the second block of layer1");
        StringAssert.Contains(error.Message, "output.weight: [5, 32] in the file, [7, 32] in the network");
        StringAssert.Contains(error.Message, "output.bias: [5] in the file, [7] in the network");

        var unmapped = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet()));
        StringAssert.Contains(unmapped.Message, "not in the network");
        StringAssert.Contains(unmapped.Message, "fc.weight [5, 32]");
        StringAssert.Contains(unmapped.Message, "layer2.0.downsample.0.weight");
        StringAssert.Contains(unmapped.Message, "ParameterNames");
    }

    [TestMethod]
    public void AMissingTruncatedOrForeignFileIsNamed()
    {
        string missing = Path.Combine(_directory, "none.pt");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedNetwork.FromPyTorchStateDict(missing, TinyResNet())).Message, missing);

        foreach (var (name, bytes) in new (string, byte[])[]
        {
            ("text.pt", "not a tensor file at all"u8.ToArray()),
            ("truncated.pt", File.ReadAllBytes(Path.Combine(Fixtures, "tiny_resnet.pt"))[..40_000]),
            ("truncated.safetensors", File.ReadAllBytes(Path.Combine(Fixtures, "tiny_resnet.safetensors"))[..40_000]),
            ("tiny.pt", [1, 2, 3]),
        })
        {
            string path = Path.Combine(_directory, name);
            File.WriteAllBytes(path, bytes);
            var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet(), Torchvision), name);
            StringAssert.Contains(error.Message, path);
        }
    }

    [TestMethod]
    public void AColourBackboneOnGrayscaleImagesSeesAGrayImageAsItsColourCopy()
    {
        string path = Path.Combine(Fixtures, "tiny_resnet.pt");
        var refused = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet(channels: 1), Torchvision));
        StringAssert.Contains(refused.Message, "layer0.conv1.weight: [4, 3, 7, 7] in the file, [4, 1, 7, 7] in the network");

        var colour = PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet(), Torchvision);
        var gray = PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet(channels: 1), Torchvision with { AdaptInputChannels = true });
        var pixels = FormulaInputs()[..(2 * 32 * 32)];
        var copies = Enumerable.Range(0, 2).SelectMany(n => Enumerable.Repeat(pixels.Skip(n * 1024).Take(1024), 3).SelectMany(p => p)).ToArray();
        var expected = Forward(colour.Network, copies, [2, 3, 32, 32]);
        var actual = Forward(gray.Network, pixels, [2, 1, 32, 32]);
        double max = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsLessThanOrEqualTo(1e-5, max, $"summed first-layer weights on a gray image equal the colour network on its RGB copy: {max}");

        var imageNet = PretrainedNetwork.FromPyTorchStateDict(path, TinyResNet(channels: 1),
            Torchvision with { AdaptInputChannels = true, PixelScale = 1 / 255f, ChannelMean = [0.485f, 0.456f, 0.406f], ChannelStd = [0.229f, 0.224f, 0.225f] });
        var normalize = imageNet.Network.state_dict();
        Assert.AreEqual(0.449f, normalize["normalize.mean"].data<float>()[0], 1e-6f, "the channel means are averaged for one channel");
        Assert.AreEqual(0.226f, normalize["normalize.std"].data<float>()[0], 1e-6f);
        Assert.AreEqual(1 / 255f, normalize["normalize.scale"].item<float>(), 1e-9f);
    }

    [TestMethod]
    public void APyTorchBackboneFineTunesInAnMLNetPipelineAndTheSavedModelScoresWithoutIt()
    {
        var context = new MLContext(seed: 1);
        var backbone = PretrainedNetwork.FromPyTorchStateDict(Path.Combine(Fixtures, "tiny_resnet.pt"), TinyResNet(channels: 1, size: 16),
            Torchvision with { AdaptInputChannels = true, PixelScale = 1 / 255f });
        var train = TinyImages.Load(context, TinyImages.LargeRows(120, FineTuningTests.NewClasses, seed: 3), FineTuningTests.NewClasses);
        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = backbone },
            Optimizer = new ML.DeepExtensions.Training.OptimizerOptions { LearningRate = 0.01 }, Epochs = 8, Seed = 2, Data = { BatchSize = 20 },
        }).Fit(train);

        var test = TinyImages.Load(context, TinyImages.LargeRows(100, FineTuningTests.NewClasses, seed: 4), FineTuningTests.NewClasses);
        var scored = model.Transform(test);
        double accuracy = context.MulticlassClassification.Evaluate(scored).MicroAccuracy;
        Assert.IsGreaterThan(0.6, accuracy, $"accuracy {accuracy}");
        string zip = Path.Combine(_directory, "from-pytorch.zip");
        context.Model.Save(model, train.Schema, zip);
        var loaded = new MLContext().Model.Load(zip, out _);
        var before = scored.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var after = loaded.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        Assert.IsLessThanOrEqualTo(1e-5, before.Zip(after, (a, b) => Math.Abs(a - b)).Max());
    }

    /// <summary>The fixture script's inputs: value i of the flattened [2, 3, 32, 32] batch is ((i * 7919) % 1000) / 1000.</summary>
    private static float[] FormulaInputs() => Enumerable.Range(0, 2 * 3 * 32 * 32).Select(i => (float)((i * 7919L % 1000) / 1000.0)).ToArray();

    private static float[] Forward(nn.Module<Tensor, Tensor> network, float[] values, long[] shape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        return network.forward(tensor(values, shape)).data<float>().ToArray();
    }
}
