using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.TestData;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions.Tests.Vision;

/// <summary>
/// The image classifier's catalogue of bad input: each case is a clear managed exception naming the
/// column, setting or layer (docs/reliability.md). Layer-shape errors are in ImageClassifierTests,
/// IDX file errors in IdxReaderTests and IdxLoaderTests, random corruption in CorruptionPropertyTests.
/// </summary>
[TestClass]
public sealed class ImageClassifierBadInputCatalogueTests
{
    private static readonly string FashionMnistDirectory = Path.GetDirectoryName(DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz"))!;

    private readonly MLContext _context = new(seed: 1);

    [TestMethod]
    public void AnImageShapeThatContradictsTheColumnsDimensionsIsAnError()
    {
        var images = Images(16);

        // 4x14x14 has the 784 values of the column's 1x28x28, but reads the pixels wrongly.
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers
            .ImageClassifier(new ImageClassifierOptions { ImageShape = [4, 14, 14], Architecture = Architectures.LeNet, Epochs = 1 }).Fit(images));

        StringAssert.Contains(error.Message, "ImageShape 4x14x14 contradicts the dimensions 1x28x28 that the features column 'Features' declares");
    }

    [TestMethod]
    public void AnImageShapeEqualToTheColumnsDimensionsIsAccepted()
    {
        var model = _context.MulticlassClassification.Trainers
            .ImageClassifier(new ImageClassifierOptions { ImageShape = [1, 28, 28], Architecture = [Layer.Flatten(), Layer.Dense(8)], Epochs = 1 }).Fit(Images(16));

        Assert.HasCount(1, model.History.Epochs);
    }

    [TestMethod]
    public void ValidationImagesOfAnotherShapeAreNamedAsValidationData()
    {
        var train = Images(16);
        var flat = Flat(Images(8));

        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers
            .ImageClassifier(new ImageClassifierOptions { Architecture = Architectures.LeNet, Epochs = 1 }).Fit(train, flat));

        StringAssert.StartsWith(error.Message, "In the validation data passed to Fit: The features column 'Features' is a flat vector of 784 values");
    }

    [TestMethod]
    public void AValidationLabelKeyWithClassesTheTrainingKeyLacksIsAnError()
    {
        var train = Images(16);
        var names = new VBuffer<ReadOnlyMemory<char>>();
        train.Schema["Label"].GetKeyValues(ref names);
        var text = _context.Transforms.Conversion.MapKeyToValue("LabelName", "Label").Fit(train).Transform(Images(8));
        var keyData = _context.Data.LoadFromEnumerable(names.DenseValues().Select(n => n.ToString()).Append("Mystery").Select(n => new LabelRow { Name = n }));
        var validation = _context.Transforms.Conversion.MapValueToKey("Label", "LabelName", keyData: keyData).Fit(text).Transform(text);

        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers
            .ImageClassifier(new ImageClassifierOptions { Architecture = Architectures.LeNet, Epochs = 1 }).Fit(train, validation));

        StringAssert.Contains(error.Message, "The validation label column 'Label' has the key ['T-shirt/top'");
        StringAssert.Contains(error.Message, "the training key does not know ('Mystery')");
    }

    [TestMethod]
    public void AVariableSizePixelColumnAtScoringTimeNamesTheTrainedSize()
    {
        var model = _context.MulticlassClassification.Trainers
            .ImageClassifier(new ImageClassifierOptions { Architecture = [Layer.Flatten(), Layer.Dense(8)], Epochs = 1 }).Fit(Images(16));
        var variable = _context.Data.LoadFromEnumerable(new[] { new PixelRow { Features = new float[784] } });

        var error = Assert.ThrowsExactly<ArgumentException>(() => model.Transform(variable));

        StringAssert.Contains(error.Message, "known-size vector of 784 Single values");
    }

    private IDataView Images(int rows) => _context.Data.LoadFashionMnist(FashionMnistSplit.Test, FashionMnistDirectory, maxRows: rows);

    /// <summary>The same images as a flat Vector&lt;Single, 784&gt; without image dimensions.</summary>
    private IDataView Flat(IDataView images)
    {
        var pixels = images.GetColumn<float[]>("Features").ToArray();
        var labels = images.GetColumn<uint>("Label").ToArray();
        var definition = SchemaDefinition.Create(typeof(FlatRow));
        definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 784);
        var flat = _context.Data.LoadFromEnumerable(pixels.Select((p, i) => new FlatRow { Features = p, Label = labels[i] }), definition);
        return flat;
    }

    private sealed class FlatRow
    {
        public float[] Features { get; set; } = [];

        [KeyType(10)]
        public uint Label { get; set; }
    }

    private sealed class LabelRow
    {
        public string Name { get; set; } = "";
    }

    private sealed class PixelRow
    {
        public float[] Features { get; set; } = [];
    }
}
