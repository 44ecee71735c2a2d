using Microsoft.ML;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Generative;

/// <summary>Issue 9, item 7: every bad input is a managed exception naming what is wrong.</summary>
[TestClass]
public sealed class ImageGanBadInputTests
{
    [TestMethod]
    public void ALabelThatIsNotAKeyIsRefusedNamingTheColumnAndTheFix()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(GanFixtures.Rows(16));
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.ImageGan(GanFixtures.Options()).Fit(data));
        StringAssert.Contains(error.Message, "'Label'");
        StringAssert.Contains(error.Message, "MapValueToKey");
    }

    [TestMethod]
    public void ANoiseSizeOfZeroIsRefusedWhenTheTrainerIsCreated()
    {
        var context = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Transforms.ImageGan(noiseSize: 0));
        StringAssert.Contains(error.Message, "NoiseSize");
    }

    [TestMethod]
    public void ImagesOfMixedShapesAreRefusedNamingTheColumn()
    {
        var context = new MLContext(seed: 1);
        var rows = new[] { new GanFixtures.FlatRow { Features = new float[64] }, new GanFixtures.FlatRow { Features = new float[49] } };
        var data = context.Data.LoadFromEnumerable(rows);
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.ImageGan(GanFixtures.Options(label: null)).Fit(data));
        StringAssert.Contains(error.Message, "'Features' is a variable-size vector");
        StringAssert.Contains(error.Message, "ResizeImages");
    }

    [TestMethod]
    public void AGeneratorWhoseOutputIsNotTheImageShapeIsRefusedBeforeTraining()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(GanFixtures.Rows(16));
        var options = new ImageGanOptions { NoiseSize = 8, Generator = [Layer.Dense(16), Layer.Reshape(1, 4, 4), Layer.Tanh()] };
        var error = Assert.ThrowsExactly<LayerShapeException>(() => context.Transforms.ImageGan(options).Fit(data));
        StringAssert.Contains(error.Message, "makes images [1, 4, 4], but the training images are [1, 8, 8]");

        var discriminator = new ImageGanOptions { NoiseSize = 8, BaseFilters = 4, Discriminator = [Layer.Flatten(), Layer.Dense(2)] };
        var wrongEnd = Assert.ThrowsExactly<LayerShapeException>(() => context.Transforms.ImageGan(discriminator).Fit(data));
        StringAssert.Contains(wrongEnd.Message, "must end with [1]");

        var odd = context.Data.LoadFromEnumerable(new[] { new SevenBySeven { Features = new float[49] } });
        var defaults = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.ImageGan(new ImageGanOptions { ImageShape = [1, 7, 7] }).Fit(odd));
        StringAssert.Contains(defaults.Message, "multiples of 4");
    }

    [TestMethod]
    public void ADiscriminatorThatCollapsesStopsWithAClearErrorAndKeepsTheLastGoodCheckpoint()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-gan-nan-").FullName;
        try
        {
            var context = new MLContext(seed: 1);
            var data = GanFixtures.Keyed(context);
            var options = new ImageGanOptions
            {
                LabelColumnName = "Label", NoiseSize = 8, BaseFilters = 4, LabelEmbeddingSize = 4, Epochs = 4, Seed = 2, Data = { BatchSize = 16 },
                SpectralNormalization = false,
                Checkpoints = new CheckpointOptions { Directory = directory },
                Callbacks = [new BlowUpTheLearningRate(fromEpoch: 1)],
            };
            var error = Assert.ThrowsExactly<TrainingDivergedException>(() => context.Transforms.ImageGan(options).Fit(data));
            StringAssert.Contains(error.Message, "Training diverged");
            StringAssert.Contains(error.Message, "_loss' became");
            string kept = Path.Combine(directory, "checkpoint-epoch-0001.mldx");
            Assert.AreEqual(kept, error.LastCheckpoint);
            StringAssert.Contains(error.Message, $"'{kept}', is kept");
            Assert.IsTrue(File.Exists(kept));

            // The kept checkpoint is good: a run resumed from it with sane settings trains to the end.
            var resumed = context.Transforms.ImageGan(new ImageGanOptions
            {
                LabelColumnName = "Label", NoiseSize = 8, BaseFilters = 4, LabelEmbeddingSize = 4, Epochs = 2, Seed = 2, Data = { BatchSize = 16 },
                SpectralNormalization = false, ResumeFromCheckpoint = kept,
            }).Fit(data);
            Assert.HasCount(2, resumed.History.Epochs);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class SevenBySeven
    {
        [Microsoft.ML.Data.VectorType(49)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>Sets every optimizer's learning rate absurdly high from an epoch on: the networks blow up to NaN.</summary>
    private sealed class BlowUpTheLearningRate(int fromEpoch) : ITrainingCallback
    {
        public void OnEpochBegin(TrainingRun run, int epoch)
        {
            if (epoch >= fromEpoch)
            {
                foreach (var optimizer in run.Optimizers)
                {
                    foreach (var group in optimizer.ParamGroups)
                    {
                        group.LearningRate = 1e35;
                    }
                }
            }
        }
    }
}
