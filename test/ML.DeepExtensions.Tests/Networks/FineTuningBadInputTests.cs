using System.IO.Compression;
using Microsoft.ML;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>Every way a pretrained start can be wrong gives a managed error naming the file, layer or shape.</summary>
[TestClass]
public sealed class FineTuningBadInputTests
{
    private static PretrainedNetwork? s_cnn;
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-finetune-bad-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static PretrainedNetwork Cnn => s_cnn ??= PretrainedNetwork.FromTransformer(FineTuningTests.PretrainCnn(new MLContext(seed: 2)));

    private static IDataView NewImages(MLContext context) =>
        TinyImages.Load(context, TinyImages.Rows(40, FineTuningTests.NewClasses, seed: 3), FineTuningTests.NewClasses);

    [TestMethod]
    public void AMissingTruncatedOrForeignFileIsNamed()
    {
        string missing = Path.Combine(_directory, "missing.zip");
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedNetwork.FromModelFile(missing)).Message, missing);
        StringAssert.Contains(Assert.Throws<IOException>(() => PretrainedNetwork.FromCheckpoint(missing)).Message, missing);

        var context = new MLContext(seed: 1);
        var images = NewImages(context);
        string saved = Path.Combine(_directory, "cnn.zip");
        context.Model.Save(FineTuningTests.PretrainCnn(context), images.Schema, saved);
        string truncated = Path.Combine(_directory, "truncated.zip");
        var bytes = File.ReadAllBytes(saved);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromModelFile(truncated)).Message, truncated);

        string foreign = Path.Combine(_directory, "foreign.zip");
        using (var zip = ZipFile.Open(foreign, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open());
            writer.Write("not a model");
        }

        var error = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromModelFile(foreign));
        StringAssert.Contains(error.Message, foreign);
        StringAssert.Contains(error.Message, "no network trained by ML.DeepExtensions");

        string plainMlNet = Path.Combine(_directory, "plain.zip");
        context.Model.Save(context.Transforms.Conversion.MapKeyToValue("Label").Fit(images), images.Schema, plainMlNet);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromModelFile(plainMlNet)).Message, plainMlNet);

        string notCheckpoint = Path.Combine(_directory, "notes.mldx");
        File.WriteAllText(notCheckpoint, "hello");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => PretrainedNetwork.FromCheckpoint(notCheckpoint)).Message, notCheckpoint);
    }

    [TestMethod]
    public void ANetworkOfAnotherFamilyIsRefusedNamingBothShapes()
    {
        var context = new MLContext(seed: 1);
        var mlp = FineTuningTests.PretrainMlp(context);
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = mlp }, Epochs = 1,
        }).Fit(NewImages(context)));
        StringAssert.Contains(error.Message, "[5]");
        StringAssert.Contains(error.Message, "[1, 8, 8]");
        StringAssert.Contains(error.Message, "'Features'");
    }

    [TestMethod]
    public void AnImageSizeTheBackboneCannotTakeNamesTheLayerAndTheSizes()
    {
        var context = new MLContext(seed: 1);
        var large = TinyImages.Load(context, TinyImages.LargeRows(20, FineTuningTests.NewClasses, seed: 3), FineTuningTests.NewClasses);
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = Cnn }, Epochs = 1,
        }).Fit(large));
        StringAssert.Contains(error.Message, "layer5");
        StringAssert.Contains(error.Message, "Dense(16)");
        StringAssert.Contains(error.Message, "[1, 16, 16]");
        StringAssert.Contains(error.Message, "[1, 8, 8]");

        // Keeping only the convolutional part takes the larger images.
        var model = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = Cnn, KeepLayersThrough = "layer3", AddedLayers = [Layer.GlobalAveragePooling()] }, Epochs = 1,
        }).Fit(large);
        Assert.HasCount(5, model.Description.Layers);
    }

    [TestMethod]
    public void FreezingEverythingOrAnUnknownLayerIsRefusedListingTheLayers()
    {
        var context = new MLContext(seed: 1);
        var images = NewImages(context);
        ImageClassifierOptions Options(IReadOnlyList<LayerSelector> frozen, IReadOnlyList<ITrainingCallback>? callbacks = null) => new()
        {
            Pretrained = new PretrainedOptions { Network = Cnn }, FrozenLayers = frozen, Callbacks = callbacks ?? [], Epochs = 1,
        };

        var none = Assert.ThrowsExactly<ArgumentException>(() =>
            context.MulticlassClassification.Trainers.ImageClassifier(Options([LayerSelector.Range(0, 9)])).Fit(images));
        StringAssert.Contains(none.Message, "no parameter to train");

        var unknown = Assert.ThrowsExactly<ArgumentException>(() =>
            context.MulticlassClassification.Trainers.ImageClassifier(Options(["layer42"])).Fit(images));
        StringAssert.Contains(unknown.Message, "'layer42'");
        StringAssert.Contains(unknown.Message, "normalize, layer0, layer1");

        var unfreezing = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.ImageClassifier(
            Options([LayerSelector.AllExcept(LayerNames.Output)], [GradualUnfreezing.LayerByLayer(1, "layer5", "convolution")])).Fit(images));
        StringAssert.Contains(unfreezing.Message, "'convolution'");
        StringAssert.Contains(unfreezing.Message, "GradualUnfreezing");
    }

    [TestMethod]
    public void AKeptLayerOrOutputThatDoesNotFitIsRefusedWhenTheTrainerIsCreated()
    {
        var context = new MLContext(seed: 1);
        var keep = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = Cnn, KeepLayersThrough = "layer9" },
        }));
        StringAssert.Contains(keep.Message, "'layer9'");
        StringAssert.Contains(keep.Message, "layer6 (Activation(Relu))");

        var output = Assert.ThrowsExactly<ArgumentException>(() => context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Pretrained = new PretrainedOptions { Network = Cnn, ReplaceOutputLayer = false }, Epochs = 1,
        }).Fit(NewImages(context)));
        StringAssert.Contains(output.Message, "4 units");
        StringAssert.Contains(output.Message, "needs 5");
    }
}
