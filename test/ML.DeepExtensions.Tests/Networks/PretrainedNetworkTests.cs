using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Tests.TestData;
using ML.DeepExtensions.Tests.Training;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>Saved models, checkpoints and fitted transformers rebuilt into trainable networks.</summary>
[TestClass]
public sealed class PretrainedNetworkTests
{
    private static readonly string FashionMnistDirectory = Path.GetDirectoryName(DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz"))!;

    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-pretrained-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    public void ASavedMlpIsRebuiltWithTheSavedModelsOutputsAndTrainsFurther()
    {
        var context = new MLContext(seed: 3);
        var rows = TabularFixtures.Rows(300);
        var data = TabularFixtures.Load(context, rows);
        var pipeline = TabularFixtures.KeyLabel(context)
            .Append(context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions { HiddenLayers = [16], Epochs = 2, BatchNormalization = true, Dropout = 0.1 }));
        var model = pipeline.Fit(data);
        string path = Path.Combine(_directory, "mlp.zip");
        context.Model.Save(model, data.Schema, path);

        var rebuilt = PretrainedNetwork.FromModelFile(path);

        var features = rows.Select(r => r.Features).ToArray();
        var saved = new MLContext().Model.Load(path, out _).Transform(data).GetColumn<float[]>("Score").ToArray();
        AssertSameScores(saved, Softmax(rebuilt.Network, features, [TabularFixtures.FeatureCount]), 1e-6);
        var trained = model.LastTransformer.Network;
        CollectionAssert.AreEqual(Logits(trained, features, [TabularFixtures.FeatureCount]), Logits(rebuilt.Network, features, [TabularFixtures.FeatureCount]),
            "the rebuilt network computes exactly what the trained one does");

        var labels = rows.Select(r => (long)(r.Category[0] - 'a')).ToArray();
        double before = MeanLoss(rebuilt.Network, features, labels);
        TrainFurther(rebuilt.Network, features, labels, epochs: 20);
        double after = MeanLoss(rebuilt.Network, features, labels);
        Assert.IsLessThan(before * 0.8, after, $"further training must lower the loss: {before} -> {after}");
    }

    [TestMethod]
    public void ASavedSmallResNetIsRebuiltWithTheSavedModelsOutputs()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFashionMnist(FashionMnistSplit.Test, FashionMnistDirectory, maxRows: 96);
        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Architecture = Architectures.SmallResNet, Epochs = 1, Data = { BatchSize = 32 },
        }).Fit(data);
        string path = Path.Combine(_directory, "resnet.zip");
        context.Model.Save(model, data.Schema, path);

        var rebuilt = PretrainedNetwork.FromModelFile(path);

        var pixels = data.GetColumn<float[]>("Features").Take(24).ToArray();
        var saved = new MLContext().Model.Load(path, out _).Transform(data).GetColumn<float[]>("Score").Take(24).ToArray();
        AssertSameScores(saved, Softmax(rebuilt.Network, pixels, [1, 28, 28]), 1e-6);
        CollectionAssert.AreEqual(Logits(model.Network, pixels, [1, 28, 28]), Logits(rebuilt.Network, pixels, [1, 28, 28]));
        Assert.AreEqual(Architectures.SmallResNet.Count, rebuilt.Description.Layers.Count);
        Assert.IsTrue(rebuilt.Network.parameters().All(p => p.requires_grad), "every parameter of the rebuilt network is trainable");
    }

    [TestMethod]
    public void AFittedTransformerAndACheckpointRebuildTheSameNetwork()
    {
        var context = new MLContext(seed: 5);
        var rows = TabularFixtures.Rows(120);
        var data = TabularFixtures.Load(context, rows);
        var model = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            HiddenLayers = [8], Epochs = 2, Checkpoints = new CheckpointOptions { Directory = _directory, EveryEpochs = 2 },
        })).Fit(data);

        var fromMemory = PretrainedNetwork.FromTransformer(model.LastTransformer);
        var fromCheckpoint = PretrainedNetwork.FromCheckpoint(Path.Combine(_directory, "checkpoint-epoch-0002.mldx"));

        var features = rows.Select(r => r.Features).Take(20).ToArray();
        var expected = Logits(model.LastTransformer.Network, features, [TabularFixtures.FeatureCount]);
        CollectionAssert.AreEqual(expected, Logits(fromMemory.Network, features, [TabularFixtures.FeatureCount]));
        CollectionAssert.AreEqual(expected, Logits(fromCheckpoint.Network, features, [TabularFixtures.FeatureCount]));
        Assert.AreNotSame(model.LastTransformer.Network, fromMemory.Network, "a copy: training it leaves the fitted model alone");
    }

    [TestMethod]
    public void AFileThatHoldsNoNetworkIsNamed()
    {
        string notZip = Path.Combine(_directory, "notes.zip");
        File.WriteAllText(notZip, "not a zip");
        var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromModelFile(notZip));
        StringAssert.Contains(error.Message, notZip);

        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedNetwork.FromModelFile(Path.Combine(_directory, "none.zip")));
        StringAssert.Contains(missing.Message, "none.zip");
    }

    internal static float[] Logits(nn.Module<Tensor, Tensor> network, float[][] rows, long[] shape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        return network.forward(tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, .. shape])).data<float>().ToArray();
    }

    private static float[][] Softmax(nn.Module<Tensor, Tensor> network, float[][] rows, long[] shape)
    {
        using var scope = NewDisposeScope();
        var flat = Logits(network, rows, shape);
        var logits = tensor(flat, [rows.Length, flat.Length / rows.Length]);
        var probabilities = nn.functional.softmax(logits, 1);
        return Enumerable.Range(0, rows.Length).Select(i => probabilities[i].data<float>().ToArray()).ToArray();
    }

    private static void AssertSameScores(float[][] expected, float[][] actual, double tolerance)
    {
        Assert.HasCount(expected.Length, actual);
        double max = expected.Zip(actual, (e, a) => e.Zip(a, (x, y) => Math.Abs(x - y)).Max()).Max();
        Assert.IsLessThanOrEqualTo(tolerance, max, $"max abs difference {max}");
    }

    private static double MeanLoss(nn.Module<Tensor, Tensor> network, float[][] features, long[] labels)
    {
        using var scope = NewDisposeScope();
        var flat = Logits(network, features, [features[0].Length]);
        var logits = tensor(flat, [features.Length, flat.Length / features.Length]);
        return nn.functional.cross_entropy(logits, tensor(labels)).item<float>();
    }

    private static void TrainFurther(nn.Module<Tensor, Tensor> network, float[][] features, long[] labels, int epochs)
    {
        var options = new TrainingOptions { Epochs = epochs, Seed = 4, Optimizer = new OptimizerOptions { LearningRate = 1e-2 } };
        var run = new TrainingRun(options);
        run.AddModule("model", network);
        var optimizer = run.CreateOptimizer("optimizer", network, options.Optimizer);
        var step = new SupervisedTrainStep(network, (o, l) => nn.functional.cross_entropy(o, l), optimizer, () => [], CPU);
        TrainingEngine.Fit(run, step, new InMemoryBatchSource(features, labels, batchSize: 32), null);
    }
}
