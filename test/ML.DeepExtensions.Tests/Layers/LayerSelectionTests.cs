using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Layers;

/// <summary>Layer selectors resolve against the names every network of this library uses; descriptions summarise them.</summary>
[TestClass]
public sealed class LayerSelectionTests
{
    private static readonly NetworkDescription Description = new()
    {
        InputShape = [4],
        Layers = [Layer.Dense(8), Layer.Relu(), Layer.Dense(6)],
        Outputs = 3,
        Normalization = InputNormalization.Standardization,
    };

    [TestMethod]
    public void SelectorsPickLayersByNamePositionRangeAndExclusion()
    {
        using var network = Description.Build();

        CollectionAssert.AreEqual(new[] { "normalize", "layer0", "layer1", "layer2", "output" }, network.named_children().Select(c => c.name).ToArray());
        CollectionAssert.AreEqual(new[] { "layer1" }, LayerSelector.Named("layer1").Resolve(network).ToArray());
        CollectionAssert.AreEqual(new[] { "layer0" }, LayerSelector.At(1).Resolve(network).ToArray(), "index 0 is normalize");
        CollectionAssert.AreEqual(new[] { "layer0", "layer1", "layer2" }, LayerSelector.Range(1, 4).Resolve(network).ToArray());
        CollectionAssert.AreEqual(new[] { "normalize", "layer0", "layer1", "layer2" }, LayerSelector.AllExcept(LayerNames.Output).Resolve(network).ToArray());
        CollectionAssert.AreEqual(new[] { "layer0.weight", "layer0.bias" },
            LayerSelector.ParametersOf(network, LayerSelector.Named("layer0").Resolve(network)).Select(p => p.Name).ToArray());
    }

    [TestMethod]
    public void ASelectorBeyondTheNetworkNamesTheLayersThatExist()
    {
        using var network = Description.Build();

        var index = Assert.ThrowsExactly<ArgumentException>(() => LayerSelector.At(9).Resolve(network));
        StringAssert.Contains(index.Message, "Layer index 9 does not exist");
        StringAssert.Contains(index.Message, "normalize, layer0, layer1, layer2, output");
        Assert.ThrowsExactly<ArgumentException>(() => LayerSelector.AllExcept("head").Resolve(network));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LayerSelector.Range(3, 3));
    }

    [TestMethod]
    public void ADescriptionSummarisesEveryLayerWithItsShape()
    {
        string summary = Description.Summary();

        StringAssert.Contains(summary, "input [4]");
        StringAssert.Contains(summary, "layer0: Dense(8) -> [8]");
        StringAssert.Contains(summary, "layer2: Dense(6) -> [6]");
        StringAssert.Contains(summary, "output: Dense(3) -> [3]");
    }

    [TestMethod]
    public void AManualCheckpointOfACustomLoopResumesItsClockAndModules()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-manual-").FullName;
        try
        {
            string path = Path.Combine(directory, "manual.mldx");
            var first = new TrainingRun(new TrainingOptions { Seed = 2, MaxSteps = 10 });
            var network = first.AddModule("model", Description.Build(), Description);
            first.CreateOptimizer("optimizer", network, new OptimizerOptions());
            first.Start();
            for (int i = 0; i < 3; i++)
            {
                first.BeginStep();
                first.EndStep();
            }

            first.SaveCheckpoint(path);

            var second = new TrainingRun(new TrainingOptions { Seed = 2, MaxSteps = 10, ResumeFromCheckpoint = path });
            var copy = second.AddModule("model", Description.Build(), Description);
            second.CreateOptimizer("optimizer", copy, new OptimizerOptions());
            second.Start();

            Assert.AreEqual(3, second.Step);
            using var input = rand(2, 4);
            CollectionAssert.AreEqual(network.forward(input).data<float>().ToArray(), copy.forward(input).data<float>().ToArray());
            Assert.AreEqual(Description.Summary(), ML.DeepExtensions.Networks.PretrainedNetwork.FromCheckpoint(path).Description.Summary(), "the checkpoint keeps the description");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
