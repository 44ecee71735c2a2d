using ML.DeepExtensions.Vision;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Tests.TestData;

namespace ML.DeepExtensions.Tests.Vision;

/// <summary>The path users with a folder of images take: PNG files → LoadImages → ExtractPixels → the trainer.</summary>
[TestClass]
public sealed class ImageFolderTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void AFolderOfPngsTrainsThroughLoadImages()
    {
        var context = new MLContext(seed: 1);
        string root = Directory.CreateTempSubdirectory("mldx-images-").FullName;
        try
        {
            // Three visually distinct classes: Trouser (1), Sneaker (7), Bag (8).
            var source = context.Data.LoadFashionMnist(FashionMnistSplit.Test, Path.GetDirectoryName(DebianDatasets.FashionMnist("t10k-images-idx3-ubyte.gz")), maxRows: 2000);
            var pixels = source.GetColumn<float[]>("Features").ToArray();
            var labels = source.GetColumn<uint>("Label").ToArray();
            var kept = Enumerable.Range(0, labels.Length).Where(i => labels[i] is 2 or 8 or 9).Take(300).ToList();
            var rows = kept.Select((index, n) =>
            {
                string className = FashionMnist.ClassNames[(int)labels[index] - 1].Replace('/', '-');
                string path = Path.Combine(root, className, $"{n}.png");
                WritePng(path, pixels[index]);
                return new ImageRow { Path = path, Label = className };
            }).ToList();

            var images = context.Data.LoadFromEnumerable(rows);
            var split = context.Data.TrainTestSplit(images, testFraction: 0.2, seed: 3);
            var pipeline = context.Transforms.LoadImages("Image", imageFolder: root, inputColumnName: nameof(ImageRow.Path))
                .Append(context.Transforms.ResizeImages("Image", imageWidth: 28, imageHeight: 28))
                .Append(context.Transforms.ConvertToGrayscale("Image"))
                .Append(context.Transforms.ExtractPixels("Features", "Image"))
                .Append(context.Transforms.Conversion.MapValueToKey("Label"))
                .Append(context.MulticlassClassification.Trainers.ImageClassifier(architecture: Architectures.LeNet, epochs: 8, batchSize: 16));

            var model = pipeline.Fit(split.TrainSet);
            var metrics = context.MulticlassClassification.Evaluate(model.Transform(split.TestSet));

            // A constant guess scores about 0.33.
            TestContext.WriteLine($"PNG folder, 3 classes: test accuracy {metrics.MicroAccuracy:F4}");
            Assert.IsGreaterThan(0.8, metrics.MicroAccuracy, $"accuracy {metrics.MicroAccuracy}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void WritePng(string path, float[] grayscale)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bgra = new byte[grayscale.Length * 4];
        for (int i = 0; i < grayscale.Length; i++)
        {
            byte value = (byte)grayscale[i];
            bgra[(i * 4) + 0] = value;
            bgra[(i * 4) + 1] = value;
            bgra[(i * 4) + 2] = value;
            bgra[(i * 4) + 3] = 255;
        }

        using var image = MLImage.CreateFromPixels(28, 28, MLPixelFormat.Bgra32, bgra);
        image.Save(path);
    }

    private sealed class ImageRow
    {
        public string Path { get; set; } = "";

        public string Label { get; set; } = "";
    }
}
