using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>Parameter groups, freezing, the divergence guard and the settings check on resume.</summary>
[TestClass]
public sealed class TrainingRunTests
{
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-run-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    public void ParameterGroupsGetTheirOwnRatesAndFollowTheSchedule()
    {
        var network = Network();
        var options = new TrainingOptions
        {
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 0.01, WeightDecay = 0.1 },
            ParameterGroups = [new ParameterGroupOptions { Layers = [LayerSelector.Range(0, 2)], LearningRateFactor = 0.1, WeightDecay = 0 }],
            MaxSteps = 4,
        };
        var run = new TrainingRun(options, 1);
        run.AddModule("model", network);
        var optimizer = run.CreateOptimizer("optimizer", network, options.Optimizer, new StepDecaySchedule(1, 0.5));

        var groups = optimizer.ParamGroups.ToArray();
        Assert.HasCount(2, groups);
        Assert.AreEqual(0.01, groups[0].LearningRate, 1e-12, "the rest: the optimizer's rate");
        Assert.AreEqual(0.001, groups[1].LearningRate, 1e-12, "layer0 and layer1: a tenth");
        run.Start();
        run.BeginStep();
        run.EndStep();
        run.EndEpoch([]);
        run.BeginStep();
        Assert.AreEqual(0.005, optimizer.ParamGroups.First().LearningRate, 1e-12, "epoch 1 halves the rate");
        Assert.AreEqual(0.0005, optimizer.ParamGroups.Last().LearningRate, 1e-12, "and keeps the group's factor");
    }

    [TestMethod]
    public void FrozenLayersDoNotChangeAndTheirBatchNormKeepsItsStatistics()
    {
        var context = new MLContext(seed: 4);
        var data = TabularFixtures.Load(context, TabularFixtures.Rows(200));
        var atStart = new SnapshotAtStart("layer0", "layer1", "output");

        var model = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            HiddenLayers = [8], BatchNormalization = true, Epochs = 2, Seed = 3,
            FrozenLayers = [LayerSelector.Named("layer0"), LayerSelector.At(2)],
            Callbacks = [atStart],
        })).Fit(data);

        var network = model.LastTransformer.Network;
        CollectionAssert.AreEqual(atStart.Values["layer0"], Snapshot(network, "layer0"), "layer0 (Dense) trains nothing");
        CollectionAssert.AreEqual(atStart.Values["layer1"], Snapshot(network, "layer1"), "layer1 (BatchNorm, index 2 after normalize) keeps its weights and running statistics");
        CollectionAssert.AreNotEqual(atStart.Values["output"], Snapshot(network, "output"), "the output layer trains");
        Assert.IsTrue(network.named_parameters().Where(p => p.name.StartsWith("layer0.", StringComparison.Ordinal)).All(p => !p.parameter.requires_grad));
    }

    [TestMethod]
    public void FreezingAnUnknownLayerOrEverythingIsExplained()
    {
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => CreateOptimizer(new TrainingOptions { FrozenLayers = ["encoder"] }));
        StringAssert.Contains(unknown.Message, "'encoder' does not exist");
        StringAssert.Contains(unknown.Message, "layer0, layer1, output");

        var everything = Assert.ThrowsExactly<ArgumentException>(() => CreateOptimizer(new TrainingOptions { FrozenLayers = [LayerSelector.Range(0, 3)] }));
        StringAssert.Contains(everything.Message, "no parameter to train");
    }

    [TestMethod]
    public void ADivergingLossStopsTrainingNamingTheEpochAndStep()
    {
        var context = new MLContext(seed: 1);
        var data = TabularFixtures.Load(context, TabularFixtures.Rows(400));
        var trainer = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            Epochs = 5, StandardizeFeatures = false, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 50 },
            Checkpoints = new CheckpointOptions { Directory = _directory },
        }));

        var error = Assert.ThrowsExactly<TrainingDivergedException>(() => trainer.Fit(data));
        StringAssert.Contains(error.Message, "Training diverged: 'loss' became");
        StringAssert.Contains(error.Message, $"in epoch {error.Epoch + 1}, at step {error.Step}");
        StringAssert.Contains(error.Message, "Lower the learning rate");
        Assert.AreEqual("loss", error.Metric);
    }

    [TestMethod]
    public void ACustomLoopsNaNIsCaughtAtTheStep()
    {
        var run = new TrainingRun(new TrainingOptions { MaxSteps = 10 }, 1);
        run.Start();
        run.BeginStep();
        run.EndStep(new TrainingLogs { ["loss"] = 0.5 });
        run.BeginStep();
        var error = Assert.ThrowsExactly<TrainingDivergedException>(() => run.EndStep(new TrainingLogs { ["d_loss"] = double.PositiveInfinity }));
        Assert.AreEqual(1, error.Step);
        Assert.AreEqual("d_loss", error.Metric);
    }

    [TestMethod]
    public void ResumingWithSettingsThatChangeTheResultIsRefusedNamingBothValues()
    {
        var context = new MLContext(seed: 1);
        var data = TabularFixtures.Load(context, TabularFixtures.Rows(80));
        Fit(context, data, new MlpMulticlassOptions { Epochs = 2, Seed = 5, Checkpoints = new CheckpointOptions { Directory = _directory } });
        string checkpoint = Path.Combine(_directory, "checkpoint-epoch-0002.mldx");

        var rate = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(context, data, new MlpMulticlassOptions
        {
            Epochs = 4, Seed = 5, ResumeFromCheckpoint = checkpoint, Optimizer = new OptimizerOptions { LearningRate = 0.01 },
        }));
        StringAssert.Contains(rate.Message, checkpoint);
        StringAssert.Contains(rate.Message, "optimizer.optimizer.LearningRate: 0.001 in the checkpoint, 0.01 now");

        var batch = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(context, data, new MlpMulticlassOptions
        {
            Epochs = 4, Seed = 5, ResumeFromCheckpoint = checkpoint, Data = { BatchSize = 8 },
        }));
        StringAssert.Contains(batch.Message, "Data.BatchSize: 32 in the checkpoint, 8 now");

        var kind = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(context, data, new MlpMulticlassOptions
        {
            Epochs = 4, Seed = 5, ResumeFromCheckpoint = checkpoint, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd },
        }));
        StringAssert.Contains(kind.Message, "optimizer.optimizer.Kind: Adam in the checkpoint, Sgd now");

        var fewer = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(context, data, new MlpMulticlassOptions
        {
            Epochs = 1, Seed = 5, ResumeFromCheckpoint = checkpoint,
        }));
        StringAssert.Contains(fewer.Message, "has completed 2 epochs, but Epochs = 1");

        var resumed = Fit(context, data, new MlpMulticlassOptions { Epochs = 4, Seed = 5, ResumeFromCheckpoint = checkpoint });
        Assert.HasCount(4, resumed.LastTransformer.History.Epochs, "the same settings resume");
    }

    private static TransformerChain<ML.DeepExtensions.MLNet.NeuralNetworkTransformer> Fit(MLContext context, IDataView data, MlpMulticlassOptions options) =>
        TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(options)).Fit(data);

    private static nn.Module<Tensor, Tensor> Network()
    {
        TrainingRun.SeedForInitialisation(1);
        return nn.Sequential(("layer0", nn.Linear(4, 8)), ("layer1", nn.ReLU()), ("output", nn.Linear(8, 2)));
    }

    private static void CreateOptimizer(TrainingOptions options)
    {
        var network = Network();
        var run = new TrainingRun(options, 1);
        run.AddModule("model", network);
        run.CreateOptimizer("optimizer", network, options.Optimizer);
    }

    private sealed class SnapshotAtStart(params string[] layers) : ITrainingCallback
    {
        public Dictionary<string, float[]> Values { get; } = [];

        public void OnTrainBegin(TrainingRun run)
        {
            foreach (var layer in layers)
            {
                Values[layer] = Snapshot(run.Model, layer);
            }
        }
    }

    private static float[] Snapshot(nn.Module network, params string[] layers) =>
        network.state_dict().Where(kv => layers.Any(l => kv.Key.StartsWith(l + ".", StringComparison.Ordinal)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray()).ToArray();
}
