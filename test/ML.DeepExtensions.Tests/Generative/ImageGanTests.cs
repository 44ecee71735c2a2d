using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Generative;

[TestClass]
public sealed class ImageGanTests
{
    private string _directory = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-gan-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    public void AConditionalGanSamplesTheRequestedClassesAsTheTorchGeneratorDoes()
    {
        var context = new MLContext(seed: 1);
        var data = GanFixtures.Keyed(context);
        var model = context.Transforms.ImageGan(GanFixtures.Options()).Fit(data);

        CollectionAssert.AreEqual(GanFixtures.Classes, model.ClassNames!.ToArray());
        Assert.HasCount(2, model.History.Epochs);
        Assert.IsTrue(model.History.Epochs[0].ContainsKey("d_loss") && model.History.Epochs[0].ContainsKey("g_loss"));

        string[] labels = ["diagonal", "top", "left", "top"];
        var sample = model.Sample(4, labels, seed: 3);
        var imageType = (VectorDataViewType)sample.Schema["GeneratedImage"].Type;
        CollectionAssert.AreEqual(new[] { 1, 8, 8 }, imageType.Dimensions.ToArray(), "the shape ImageAnalytics' ConvertToImage reads");
        Assert.IsInstanceOfType<KeyDataViewType>(sample.Schema["Label"].Type);
        var images = sample.GetColumn<float[]>("GeneratedImage").ToArray();
        var noise = sample.GetColumn<float[]>("Noise").ToArray();
        Assert.IsTrue(images.All(i => i.All(p => p is >= 0 and <= 255)), "pixels in [0, 255]");

        // The ONNX generator computes what the (averaged) TorchSharp generator computes.
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var classIndex = tensor(labels.Select(l => (float)Array.IndexOf(GanFixtures.Classes, l)).ToArray()).unsqueeze(1);
            var input = cat([tensor(noise.SelectMany(n => n).ToArray()).reshape(4, 8), classIndex], 1);
            var expected = ((model.GeneratorNetwork.forward(input) + 1) * 127.5f).data<float>().ToArray();
            double max = expected.Zip(images.SelectMany(i => i), (e, a) => Math.Abs(e - a)).Max();
            TestContext.WriteLine($"max |torch - onnx| over generated pixels: {max:E2}");
            Assert.IsLessThan(1e-3, max);
        }

        var again = model.Sample(4, labels, seed: 3).GetColumn<float[]>("GeneratedImage").ToArray();
        CollectionAssert.AreEqual(images[2], again[2], "the same seed gives the same images");
        var other = model.Sample(4, labels, seed: 4).GetColumn<float[]>("GeneratedImage").ToArray();
        CollectionAssert.AreNotEqual(images[2], other[2], "another seed other images");

        var converted = context.Transforms.ConvertToImage(8, 8, "Picture", "GeneratedImage", Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red)
            .Fit(sample).Transform(sample);
        Assert.HasCount(4, converted.GetColumn<MLImage>("Picture").ToArray());
    }

    [TestMethod]
    public void TheDiscriminatorScoresRealnessAndBothTransformersRoundTripThroughModelSave()
    {
        var context = new MLContext(seed: 1);
        var data = GanFixtures.Keyed(context);
        var model = context.Transforms.ImageGan(GanFixtures.Options()).Fit(data);

        var scores = model.Transform(data).GetColumn<float>("Score").ToArray();
        Assert.HasCount(48, scores);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var pixels = tensor(data.GetColumn<float[]>("Features").SelectMany(p => p).ToArray()).reshape(48, 1, 8, 8);
            var expected = model.DiscriminatorNetwork.forward((pixels * (2f / 255)) - 1).select(1, 0).data<float>().ToArray();
            double max = expected.Zip(scores, (e, a) => Math.Abs(e - a)).Max();
            Assert.IsLessThan(1e-4, max, $"discriminator ONNX vs torch: {max}");
        }

        var sample = model.Sample(3, seed: 5);
        string generatorPath = Path.Combine(_directory, "generator.zip");
        string discriminatorPath = Path.Combine(_directory, "discriminator.zip");
        context.Model.Save(model.Generator, model.GeneratorInputSchema, generatorPath);
        context.Model.Save(model, data.Schema, discriminatorPath);

        var fresh = new MLContext();
        var generator = fresh.Model.Load(generatorPath, out _);
        var discriminator = fresh.Model.Load(discriminatorPath, out _);
        try
        {
            var regenerated = generator.Transform(sample).GetColumn<float[]>("GeneratedImage").ToArray();
            var original = sample.GetColumn<float[]>("GeneratedImage").ToArray();
            for (int i = 0; i < 3; i++)
            {
                CollectionAssert.AreEqual(original[i], regenerated[i]);
            }

            CollectionAssert.AreEqual(scores, discriminator.Transform(data).GetColumn<float>("Score").ToArray());
        }
        finally
        {
            (generator as IDisposable)?.Dispose();
            (discriminator as IDisposable)?.Dispose();
        }
    }

    [TestMethod]
    public void AResumedRunEndsWithTheWeightsOfAnUninterruptedOne()
    {
        var context = new MLContext(seed: 1);
        var data = GanFixtures.Keyed(context);
        string full = Path.Combine(_directory, "full");
        string resumed = Path.Combine(_directory, "resumed");
        var options = GanFixtures.Options(epochs: 3);
        var uninterrupted = context.Transforms.ImageGan(new ImageGanOptions
        {
            LabelColumnName = options.LabelColumnName, NoiseSize = 8, BaseFilters = 4, LabelEmbeddingSize = 4, Epochs = 3, Seed = 7, Data = { BatchSize = 16 },
            Checkpoints = new CheckpointOptions { Directory = full },
        }).Fit(data);
        var continued = context.Transforms.ImageGan(new ImageGanOptions
        {
            LabelColumnName = options.LabelColumnName, NoiseSize = 8, BaseFilters = 4, LabelEmbeddingSize = 4, Epochs = 3, Seed = 7, Data = { BatchSize = 16 },
            Checkpoints = new CheckpointOptions { Directory = resumed },
            ResumeFromCheckpoint = Path.Combine(full, "checkpoint-epoch-0001.mldx"),
        }).Fit(data);

        AssertSameWeights(uninterrupted.GeneratorNetwork, continued.GeneratorNetwork, "EMA generator");
        AssertSameWeights(uninterrupted.DiscriminatorNetwork, continued.DiscriminatorNetwork, "discriminator");
        CollectionAssert.AreEqual(
            uninterrupted.History.Epochs.Select(e => e["g_loss"]).ToArray(), continued.History.Epochs.Select(e => e["g_loss"]).ToArray());
        Assert.IsTrue(File.Exists(Path.Combine(resumed, "checkpoint-epoch-0003.mldx")));

        var other = context.Transforms.ImageGan(GanFixtures.Options(epochs: 3, seed: 8)).Fit(data);
        CollectionAssert.AreNotEqual(Flat(uninterrupted.DiscriminatorNetwork), Flat(other.DiscriminatorNetwork), "another seed trains other weights");
    }

    [TestMethod]
    public void ARunResumedFromAStepCheckpointInsideAnEpochEqualsAnUninterruptedOne()
    {
        // 48 images in batches of 16: 3 steps per epoch, so step 4 is one step into epoch 2.
        var context = new MLContext(seed: 1);
        var data = GanFixtures.Keyed(context);
        string full = Path.Combine(_directory, "full");
        string resumed = Path.Combine(_directory, "resumed");
        ImageGanOptions Options(string directory, string? resume) => new()
        {
            LabelColumnName = "Label", NoiseSize = 8, BaseFilters = 4, LabelEmbeddingSize = 4, Epochs = 3, Seed = 7, Data = { BatchSize = 16 },
            Loss = GanLoss.Hinge, DiscriminatorSteps = 2,
            Checkpoints = new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 4 },
            ResumeFromCheckpoint = resume,
        };

        using var uninterrupted = context.Transforms.ImageGan(Options(full, null)).Fit(data);
        string midEpoch = Path.Combine(full, "checkpoint-step-00000004.mldx");
        Assert.IsTrue(File.Exists(midEpoch));
        Assert.IsTrue(File.Exists(Path.Combine(full, "checkpoint-step-00000008.mldx")));
        using var continued = context.Transforms.ImageGan(Options(resumed, midEpoch)).Fit(data);

        AssertSameWeights(uninterrupted.GeneratorNetwork, continued.GeneratorNetwork, "EMA generator");
        AssertSameWeights(uninterrupted.DiscriminatorNetwork, continued.DiscriminatorNetwork, "discriminator");
        foreach (var key in new[] { "d_loss", "g_loss" })
        {
            CollectionAssert.AreEqual(
                uninterrupted.History.Epochs.Select(e => e[key]).ToArray(), continued.History.Epochs.Select(e => e[key]).ToArray(), $"{key} per epoch, the resumed epoch included");
        }

        Assert.IsTrue(File.Exists(Path.Combine(resumed, "checkpoint-step-00000008.mldx")));
    }

    [TestMethod]
    public void AnUnconditionalHingeGanWritesASampleGridEveryEpoch()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(GanFixtures.Rows(32));
        var progress = new List<TrainingProgress>();
        var model = context.Transforms.ImageGan(new ImageGanOptions
        {
            NoiseSize = 8, BaseFilters = 4, Epochs = 2, Seed = 3, Loss = GanLoss.Hinge, EmaDecay = 0, SpectralNormalization = false,
            Data = { BatchSize = 16 },
            SampleGrid = new SampleGridOptions { Directory = _directory, Columns = 4, Rows = 2 },
            Progress = new SynchronousProgress<TrainingProgress>(progress.Add),
        }).Fit(data);

        Assert.IsNull(model.ClassNames);
        Assert.HasCount(2, progress);
        foreach (var epoch in new[] { 1, 2 })
        {
            string png = Path.Combine(_directory, $"samples-epoch-000{epoch}.png");
            Assert.IsTrue(File.Exists(png), png);
            using var image = MLImage.CreateFromFile(png);
            Assert.AreEqual((4 * 10) + 2, image.Width);
            Assert.AreEqual((2 * 10) + 2, image.Height);
        }

        Assert.IsNotNull(model.Sample(2).GetColumn<float[]>("GeneratedImage").First());
        Assert.ThrowsExactly<ArgumentException>(() => model.Sample(1, ["top"]));
    }

    internal static void AssertSameWeights(nn.Module expected, nn.Module actual, string what)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        CollectionAssert.AreEqual(a.Keys.ToArray(), b.Keys.ToArray());
        foreach (var key in a.Keys)
        {
            Assert.IsFalse(a[key].ne(b[key]).any().item<bool>(), $"{what}: {key} differs");
        }
    }

    private static float[] Flat(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
