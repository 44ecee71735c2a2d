using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>FeaturizeByNetwork: a frozen pretrained backbone as an ML.NET featurizer under ML.NET's own trainers.</summary>
[TestClass]
public sealed class NetworkFeaturizerTests
{
    private static PretrainedNetwork? s_cnn;

    public TestContext TestContext { get; set; } = null!;

    private static PretrainedNetwork Cnn => s_cnn ??= PretrainedNetwork.FromTransformer(FineTuningTests.PretrainCnn(new MLContext(seed: 2)));

    [TestMethod]
    public void TheEmbeddingIsThePenultimateLayerOfTheTorchNetworkAndSavesWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        var images = TinyImages.Load(context, TinyImages.Rows(30, FineTuningTests.NewClasses, seed: 3), FineTuningTests.NewClasses);
        var featurizer = context.Transforms.FeaturizeByNetwork("Embedding", Cnn).Fit(images);
        var featurized = featurizer.Transform(images);

        var column = featurized.Schema["Embedding"];
        Assert.AreEqual(16, ((VectorDataViewType)column.Type).Size, "the last described layer (Dense(16) → Relu) gives 16 values");
        Assert.AreEqual(NumberDataViewType.Single, ((VectorDataViewType)column.Type).ItemType);
        var embeddings = featurized.GetColumn<float[]>("Embedding").ToArray();
        var pixels = images.GetColumn<float[]>("Features").ToArray();
        var expected = Penultimate(Cnn.Network, pixels);
        double max = embeddings.SelectMany(e => e).Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsLessThanOrEqualTo(1e-5, max, $"ONNX vs TorchSharp: max abs difference {max}");

        using var stream = new MemoryStream();
        context.Model.Save(featurizer, images.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        CollectionAssert.AreEqual(embeddings.SelectMany(e => e).ToArray(), loaded.Transform(images).GetColumn<float[]>("Embedding").SelectMany(e => e).ToArray());
    }

    [TestMethod]
    public void SdcaAndLightGbmLearnOnTheEmbeddingsOfAChosenLayer()
    {
        var context = new MLContext(seed: 1);
        var train = TinyImages.Load(context, TinyImages.Rows(200, FineTuningTests.OldClasses, seed: 3), FineTuningTests.OldClasses);
        var test = TinyImages.Load(context, TinyImages.Rows(200, FineTuningTests.OldClasses, seed: 4), FineTuningTests.OldClasses);
        foreach (var (name, trainer) in new (string, IEstimator<ITransformer>)[]
        {
            ("SDCA", context.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: "Embedding")),
            ("LightGbm", context.MulticlassClassification.Trainers.LightGbm(featureColumnName: "Embedding", minimumExampleCountPerLeaf: 5)),
        })
        {
            var pipeline = context.Transforms.FeaturizeByNetwork("Embedding", Cnn, throughLayer: "layer4").Append(trainer);
            var model = pipeline.Fit(train);
            Assert.AreEqual(64, ((VectorDataViewType)model.Transform(test).Schema["Embedding"].Type).Size, "layer4 (Flatten) of 4×4×4");
            double accuracy = context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
            TestContext.WriteLine($"{name} on layer4 embeddings: accuracy {accuracy:F3}");
            Assert.IsGreaterThan(0.9, accuracy, $"{name} learns the classes the backbone was trained on from its embeddings");
        }
    }

    [TestMethod]
    public void AnUnknownLayerOrAReplacedInputColumnIsRefused()
    {
        var context = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.FeaturizeByNetwork("Embedding", Cnn, throughLayer: "conv"));
        StringAssert.Contains(error.Message, "'conv'");
        StringAssert.Contains(error.Message, "normalize, layer0");
        Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.FeaturizeByNetwork("Features", Cnn));
    }

    private static float[] Penultimate(nn.Module<Tensor, Tensor> network, float[][] rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        var x = tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, 1, TinyImages.Size, TinyImages.Size]);
        foreach (var (name, child) in network.named_children())
        {
            if (name == "output")
            {
                break;
            }

            x = ((nn.Module<Tensor, Tensor>)child).forward(x);
        }

        return x.data<float>().ToArray();
    }
}
