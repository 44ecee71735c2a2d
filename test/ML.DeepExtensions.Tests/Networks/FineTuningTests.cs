using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>Trainers started from this library's own pretrained networks: head replacement, freezing, unfreezing, learning-rate groups.</summary>
[TestClass]
public sealed class FineTuningTests
{
    internal static readonly IReadOnlyList<NetworkLayer> SmallCnn =
        [Layer.Conv2D(4), Layer.BatchNorm(), Layer.Relu(), Layer.MaxPool2D(), Layer.Flatten(), Layer.Dense(16), Layer.Relu()];

    internal static readonly int[] OldClasses = [0, 1, 2, 3];
    internal static readonly int[] NewClasses = [4, 5, 6, 7, 8];

    private string _directory = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-finetune-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    /// <summary>SmallCnn trained on the four quadrant classes.</summary>
    internal static NeuralNetworkTransformer PretrainCnn(MLContext context, CheckpointOptions? checkpoints = null)
    {
        var data = TinyImages.Load(context, TinyImages.Rows(256, OldClasses, seed: 1), OldClasses);
        return context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Architecture = SmallCnn, Epochs = 3, Seed = 1, Data = { BatchSize = 32 }, Checkpoints = checkpoints,
            Optimizer = new OptimizerOptions { LearningRate = 0.01 },
        }).Fit(data);
    }

    [TestMethod]
    public void ACnnFromASavedZipTrainsANewHeadForANewLabelSetWhileTheFrozenBackboneStaysBitIdentical()
    {
        var context = new MLContext(seed: 2);
        var pretrainedModel = PretrainCnn(context);
        string zip = Path.Combine(_directory, "quadrants.zip");
        var oldData = TinyImages.Load(context, TinyImages.Rows(8, OldClasses, seed: 9), OldClasses);
        context.Model.Save(pretrainedModel, oldData.Schema, zip);
        var pretrained = PretrainedNetwork.FromModelFile(zip);

        var train = TinyImages.Load(context, TinyImages.Rows(200, NewClasses, seed: 3), NewClasses);
        var test = TinyImages.Load(context, TinyImages.Rows(200, NewClasses, seed: 4), NewClasses);
        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = pretrained },
            FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
            // Decoupled weight decay would shrink frozen weights if the optimizer touched them.
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 0.02, WeightDecay = 0.5 },
            Epochs = 6, Seed = 3, Data = { BatchSize = 20 },
        }).Fit(train);

        var before = pretrained.Network.state_dict();
        foreach (var (name, value) in model.Network.state_dict().Where(kv => !kv.Key.StartsWith("output.", StringComparison.Ordinal)))
        {
            Assert.IsTrue(Identical(value, before[name]), $"frozen '{name}' (weights and batch-norm statistics) must not change");
        }

        CollectionAssert.AreEqual(new long[] { NewClasses.Length, 16 }, model.Network.state_dict()["output.weight"].shape);
        var scored = model.Transform(test);
        var metrics = context.MulticlassClassification.Evaluate(scored);
        TestContext.WriteLine($"head only on frozen quadrant features: accuracy {metrics.MicroAccuracy:F3}");
        Assert.IsGreaterThan(0.5, metrics.MicroAccuracy, "the new head learns the new classes from the frozen features (chance is 0.2)");
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["PredictedLabel"].GetKeyValues(ref names);
        CollectionAssert.AreEqual(NewClasses.Select(c => $"class{c}").ToArray(), names.DenseValues().Select(n => n.ToString()).ToArray());

        string fineTunedZip = Path.Combine(_directory, "bars.zip");
        context.Model.Save(model, train.Schema, fineTunedZip);
        var loaded = new MLContext().Model.Load(fineTunedZip, out _);
        var expected = scored.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var actual = loaded.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        Assert.IsLessThanOrEqualTo(1e-6, expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max());
    }

    [TestMethod]
    public void FineTuningTheWholeNetworkFromACheckpointLearnsNewClassesFromFewImages()
    {
        // Whether pretraining beats training from scratch is measured on Fashion-MNIST by the benchmark
        // (docs/benchmarks.md); these generated classes are easy enough that both reach the same accuracy.
        var context = new MLContext(seed: 2);
        PretrainCnn(context, new CheckpointOptions { Directory = _directory, EveryEpochs = 3 });
        var pretrained = PretrainedNetwork.FromCheckpoint(Path.Combine(_directory, "checkpoint-epoch-0003.mldx"));
        var few = TinyImages.Load(context, TinyImages.Rows(25, NewClasses, seed: 5), NewClasses);
        var test = TinyImages.Load(context, TinyImages.Rows(300, NewClasses, seed: 6), NewClasses);

        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = pretrained }, Epochs = 10, Seed = 7, Data = { BatchSize = 5 },
            Optimizer = new OptimizerOptions { LearningRate = 0.01 },
        }).Fit(few);

        double accuracy = context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
        TestContext.WriteLine($"25 images of 5 new classes, 10 epochs: accuracy {accuracy:F3}");
        Assert.IsGreaterThan(0.9, accuracy);
        var original = pretrained.Network.state_dict();
        foreach (string name in new[] { "layer0.weight", "layer1.weight", "layer5.weight" })
        {
            Assert.IsFalse(Identical(model.Network.state_dict()[name], original[name]), $"'{name}' is fine-tuned");
        }
    }

    [TestMethod]
    public void BatchNormStatisticsOfFrozenLayersUpdateWhenTheyAreNotFrozen()
    {
        var context = new MLContext(seed: 2);
        var pretrained = PretrainedNetwork.FromTransformer(PretrainCnn(context));
        var train = TinyImages.Load(context, TinyImages.Rows(60, NewClasses, seed: 3), NewClasses);

        NeuralNetworkTransformer FineTune(bool freezeStatistics) => context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = pretrained },
            FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
            FreezeBatchNormStatistics = freezeStatistics, Epochs = 1, Seed = 3, Data = { BatchSize = 20 },
        }).Fit(train);

        var original = pretrained.Network.state_dict();
        var kept = FineTune(freezeStatistics: true).Network.state_dict();
        var updated = FineTune(freezeStatistics: false).Network.state_dict();
        Assert.IsTrue(Identical(kept["layer1.running_mean"], original["layer1.running_mean"]));
        Assert.IsFalse(Identical(updated["layer1.running_mean"], original["layer1.running_mean"]), "batch statistics are re-estimated on the new images");
        Assert.IsTrue(Identical(updated["layer1.weight"], original["layer1.weight"]), "the batch norm's scale stays frozen either way");
        Assert.IsTrue(Identical(updated["layer0.weight"], original["layer0.weight"]));
    }

    [TestMethod]
    public void GradualUnfreezingTrainsEachLayerFromItsEpochAndTheOptimizerDecaysNothingBefore()
    {
        var context = new MLContext(seed: 4);
        var pretrained = PretrainMlp(context);
        var probe = new WeightProbe("layer0.weight", "layer2.weight", "output.weight");
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(120, seed: 8)))
            .Transform(TabularFixtures.Load(context, TabularFixtures.Rows(120, seed: 8)));
        context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            Pretrained = new PretrainedOptions { Network = pretrained },
            FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
            Callbacks = [probe, GradualUnfreezing.LayerByLayer(everyEpochs: 1, "layer2", "layer0")],
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 0.01, WeightDecay = 0.3 },
            Epochs = 3, Seed = 5, Data = { BatchSize = 30 },
        }).Fit(data);

        var original = pretrained.Network.state_dict();
        bool Same(int epoch, string name) => Identical(probe.Values[epoch][name], original[name]);
        Assert.IsTrue(Same(0, "layer0.weight") && Same(0, "layer2.weight"), "epoch 0 trains the head only");
        Assert.IsFalse(Same(0, "output.weight"));
        Assert.IsTrue(Same(1, "layer0.weight"), "layer0 is still frozen in epoch 1");
        Assert.IsFalse(Same(1, "layer2.weight"), "layer2 trains from epoch 1");
        Assert.IsFalse(Same(2, "layer0.weight"), "layer0 trains from epoch 2");
    }

    [TestMethod]
    public void AGraduallyUnfrozenRunResumedFromACheckpointEndsBitIdentical()
    {
        var context = new MLContext(seed: 4);
        var pretrained = PretrainMlp(context);
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(90, seed: 8)))
            .Transform(TabularFixtures.Load(context, TabularFixtures.Rows(90, seed: 8)));
        MlpMulticlassOptions Options(string? resume) => new()
        {
            Pretrained = new PretrainedOptions { Network = pretrained },
            FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
            Callbacks = [GradualUnfreezing.LayerByLayer(everyEpochs: 1, "layer2", "layer0")],
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 0.01, WeightDecay = 0.1 },
            Epochs = 4, Seed = 5, Data = { BatchSize = 30 },
            Checkpoints = new CheckpointOptions { Directory = Path.Combine(_directory, resume is null ? "full" : "resumed"), EveryEpochs = 1 },
            ResumeFromCheckpoint = resume,
        };

        var full = context.MulticlassClassification.Trainers.Mlp(Options(null)).Fit(data).Network.state_dict();
        var resumed = context.MulticlassClassification.Trainers.Mlp(Options(Path.Combine(_directory, "full", "checkpoint-epoch-0002.mldx"))).Fit(data).Network.state_dict();
        foreach (var (name, value) in full)
        {
            Assert.IsTrue(Identical(value, resumed[name]), $"'{name}' after resuming at epoch 2 (layer2 unfrozen, layer0 due)");
        }
    }

    [TestMethod]
    public void DiscriminativeLearningRatesGiveTheBackboneItsOwnRate()
    {
        var context = new MLContext(seed: 4);
        var pretrained = PretrainMlp(context);
        var probe = new WeightProbe();
        var rows = TabularFixtures.Rows(60, seed: 8);
        var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions
        {
            LabelColumnName = nameof(TabularFixtures.Row.Target),
            Pretrained = new PretrainedOptions { Network = pretrained, KeepLayersThrough = "layer1", AddedLayers = [Layer.Dense(6), Layer.Relu()] },
            ParameterGroups = [new ParameterGroupOptions { Layers = ["layer0"], LearningRateFactor = 0.1 }],
            Optimizer = new OptimizerOptions { LearningRate = 0.01 },
            Callbacks = [probe], Epochs = 1, Seed = 5, Data = { BatchSize = 30 },
        }).Fit(TabularFixtures.Load(context, rows));

        CollectionAssert.AreEqual(new[] { 0.01, 0.001 }, probe.LearningRates.Select(r => Math.Round(r, 6)).ToArray(), "the rest at the base rate, layer0 at a tenth");
        Assert.AreEqual("Dense(8), Activation(Relu), Dense(6), Activation(Relu)", string.Join(", ", model.Description.Layers.Select(l => l.Describe())));
    }

    [TestMethod]
    public void KeptLayersStartFromThePretrainedWeightsAndAddedLayersAndTheLabelScaleAreNew()
    {
        var context = new MLContext(seed: 4);
        var pretrained = PretrainMlp(context);
        var rows = TabularFixtures.Rows(150, seed: 8);
        var model = context.Regression.Trainers.Mlp(new MlpRegressionOptions
        {
            LabelColumnName = nameof(TabularFixtures.Row.Target),
            Pretrained = new PretrainedOptions { Network = pretrained, KeepLayersThrough = "layer1", AddedLayers = [Layer.Dense(6), Layer.Relu()] },
            FrozenLayers = ["layer0"], Optimizer = new OptimizerOptions { LearningRate = 0.01 }, Epochs = 30, Seed = 5, Data = { BatchSize = 30 },
        }).Fit(TabularFixtures.Load(context, rows));

        var state = model.Network.state_dict();
        Assert.IsTrue(Identical(state["layer0.weight"], pretrained.Network.state_dict()["layer0.weight"]));
        Assert.IsTrue(Identical(state["normalize.mean"], pretrained.Network.state_dict()["normalize.mean"]), "the pretrained feature standardisation is kept");
        CollectionAssert.AreEqual(new long[] { 6, 8 }, state["layer2.weight"].shape);
        var metrics = context.Regression.Evaluate(model.Transform(TabularFixtures.Load(context, rows)), nameof(TabularFixtures.Row.Target));
        TestContext.WriteLine($"regression on a pretrained classifier's first layer: R² {metrics.RSquared:F3}");
        Assert.IsGreaterThan(0.8, metrics.RSquared, "the label scale is fitted on the new labels, so predictions come out in label units");
    }

    internal static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    internal static PretrainedNetwork PretrainMlp(MLContext context)
    {
        var data = TabularFixtures.Load(context, TabularFixtures.Rows(150));
        var model = TabularFixtures.KeyLabel(context)
            .Append(context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions { HiddenLayers = [8, 8], Epochs = 3, Seed = 1 }))
            .Fit(data);
        return PretrainedNetwork.FromTransformer(model.LastTransformer);
    }

    /// <summary>Copies of some parameters after each epoch, and the optimizer's group learning rates.</summary>
    private sealed class WeightProbe(params string[] names) : ITrainingCallback
    {
        public List<Dictionary<string, Tensor>> Values { get; } = [];

        public List<double> LearningRates { get; } = [];

        public void OnTrainBegin(TrainingRun run)
        {
            LearningRates.AddRange(run.Optimizers[0].ParamGroups.Select(g => g.LearningRate));
        }

        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
        {
            var state = run.Model.state_dict();
            Values.Add(names.ToDictionary(n => n, n => state[n].detach().clone().DetachFromDisposeScope()));
        }
    }
}
