using CsCheck;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Layers;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Random schemas, shapes, values and option values for every trainer: each Fit (and scoring of
/// what it returns) either works or fails with a clear managed exception; never a null reference,
/// an index error, a libtorch error or a crash (issue 12). Cases are tiny (at most 40 rows, two
/// epochs) and their number bounded, so the class runs in seconds.
/// </summary>
[TestClass]
public sealed class TrainerPropertyTests
{
    private const int CasesPerTask = 40;

    private static readonly string[] FeatureColumns = ["Fs", "Fv", "Fd", "Fx", "Absent"];
    private static readonly string[] LabelColumns = ["Lk", "Lb", "Lf", "Lt", "Absent"];

    public TestContext TestContext { get; set; } = null!;

    public enum Task
    {
        Multiclass,
        Binary,
        Regression,
    }

    [TestMethod]
    [DataRow(Task.Multiclass)]
    [DataRow(Task.Binary)]
    [DataRow(Task.Regression)]
    public void EveryMlpFitWorksOrFailsCleanly(Task task)
    {
        int failures = 0;
        PropertyCases.Check(MlpCases(task), CasesPerTask, seed: 12 + (ulong)task, c =>
        {
            var context = new MLContext(seed: 1);
            var train = Table(context, c, c.Rows, c.Width, c.DataSeed);
            var validation = c.ValidationWidth is { } width ? Table(context, c, c.Rows / 2 + 1, width, c.DataSeed + 1) : null;
            var error = PropertyCases.ExpectCleanFailureOrSuccess(() =>
            {
                var model = Fit(context, c, train, validation);
                ScoreEveryRow(model, train);
            });
            failures += error is null ? 0 : 1;
            if (error is not null)
            {
                TestContext.WriteLine($"  {error.GetType().Name}: {error.Message}");
            }
        }, c => c.ToString());
        TestContext.WriteLine($"{task}: {CasesPerTask - failures} fits worked, {failures} failed cleanly");
    }

    [TestMethod]
    public void EveryImageClassifierFitWorksOrFailsCleanly()
    {
        int failures = 0;
        PropertyCases.Check(ImageCases(), CasesPerTask, seed: 7, c =>
        {
            var context = new MLContext(seed: 1);
            var images = ImageTable(context, c);
            var error = PropertyCases.ExpectCleanFailureOrSuccess(() =>
            {
                var options = new ImageClassifierOptions
                {
                    Epochs = 1,
                    ImageShape = c.ImageShape,
                    Architecture = Architectures(c.Architecture),
                    Augmentation = new ImageAugmentationOptions { HorizontalFlip = c.Flip, RandomCropPadding = c.CropPadding },
                    Seed = 1,
                    Data = { BatchSize = c.BatchSize },
                };
                var model = context.MulticlassClassification.Trainers.ImageClassifier(options).Fit(images);
                ScoreEveryRow(model, images);
            });
            failures += error is null ? 0 : 1;
            if (error is not null)
            {
                TestContext.WriteLine($"  {error.GetType().Name}: {error.Message}");
            }
        }, c => c.ToString());
        TestContext.WriteLine($"image classifier: {CasesPerTask - failures} fits worked, {failures} failed cleanly");
    }

    [TestMethod]
    public void InvalidOptionValuesAreRejectedWhenTheTrainerIsCreated()
    {
        var gen = Gen.Select(Gen.Int[-3, 3], Gen.Int[-3, 3], Gen.OneOf(double.NaN, -1.0, 0.0, 1e-3, double.PositiveInfinity),
            Gen.OneOf(-0.5, 0.0, 0.3, 1.0, double.NaN), Gen.OneOf<double?>(null, -1.0, 0.0, 1.0, double.NaN));
        PropertyCases.Check(gen, 40, seed: 3, c =>
        {
            var (epochs, batchSize, learningRate, validationFraction, clip) = c;
            var context = new MLContext(seed: 1);
            var error = PropertyCases.ExpectCleanFailureOrSuccess(() => context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
            {
                Epochs = epochs,
                Optimizer = new OptimizerOptions { LearningRate = learningRate },
                GradientClipNorm = clip,
                Data = { BatchSize = batchSize, ValidationFraction = validationFraction },
            }));
            bool valid = epochs > 0 && batchSize > 0 && learningRate > 0 && double.IsFinite(learningRate)
                && validationFraction is >= 0 and < 1 && clip is null or > 0 && (clip is null || double.IsFinite(clip.Value));
            if (valid)
            {
                Assert.IsNull(error, $"valid options rejected: {error?.Message}");
            }
            else
            {
                Assert.IsInstanceOfType<ArgumentOutOfRangeException>(error, "invalid options must be rejected when the trainer is created");
            }
        });
    }

    public sealed record MlpCase(
        Task Task, int Rows, int Width, int? ValidationWidth, string FeatureColumn, string LabelColumn, int Classes, double MissingRate,
        int BatchSize, int Epochs, bool DropLast, double ValidationFraction, bool Shuffle, int ShuffleBuffer, bool SkipMissing,
        int Hidden, double LearningRate, int DataSeed);

    public sealed record ImageCase(
        int Rows, int Channels, int Height, int Width, bool DeclareDimensions, int[]? ImageShape, int Architecture,
        int Classes, int BatchSize, bool Flip, int CropPadding, int DataSeed)
    {
        public override string ToString() =>
            $"{Rows} rows of {Channels}x{Height}x{Width} (declared: {DeclareDimensions}), ImageShape {(ImageShape is null ? "null" : string.Join("x", ImageShape))}, "
            + $"architecture {Architecture}, {Classes} classes, batch {BatchSize}, flip {Flip}, crop {CropPadding}, data seed {DataSeed}";
    }

    private static Gen<MlpCase> MlpCases(Task task)
    {
        // The right columns for the task most of the time, so that many cases train.
        string rightLabel = task switch { Task.Multiclass => "Lk", Task.Binary => "Lb", _ => "Lf" };
        var feature = Gen.Frequency([(30, "Fs"), .. FeatureColumns.Select(f => (1, f))]);
        var label = Gen.Frequency([(30, rightLabel), .. LabelColumns.Select(l => (1, l))]);
        var validationWidth = Gen.Frequency((20, 0), (1, 2), (1, 3)).Select(w => w == 0 ? (int?)null : w);
        var shape = Gen.Select(Gen.Frequency((1, 0), (1, 1), (10, 40), (10, 20)).SelectMany(n => Gen.Int[0, n]), Gen.Int[1, 6], validationWidth, feature, label, Gen.Int[1, 5],
            Gen.Frequency((10, 0.0), (1, 0.05), (1, 0.5)));
        var options = Gen.Select(Gen.OneOf(1, 3, 8, 64, int.MaxValue), Gen.Int[1, 2], Gen.Bool, Gen.OneOf(0.0, 0.0, 0.0, 0.25, 0.0001, 0.9), Gen.Bool,
            Gen.OneOf(0, 1, 5), Gen.Bool);
        var network = Gen.Select(Gen.OneOf(0, 4), Gen.OneOf(1e-3, 0.1), Gen.Int[0, 1000]);
        return Gen.Select(shape, options, network, (s, o, n) => new MlpCase(
            task, s.Item1, s.Item2, s.Item3, s.Item4, s.Item5, s.Item6, s.Item7,
            o.Item1, o.Item2, o.Item3, o.Item4, o.Item5, o.Item6, o.Item7,
            n.Item1, n.Item2, n.Item3));
    }

    private static Gen<ImageCase> ImageCases()
    {
        var image = Gen.Select(Gen.Int[0, 24], Gen.OneOf(1, 3), Gen.Int[1, 8], Gen.Int[1, 8], Gen.Frequency((3, true), (1, false)));
        var shapeChoice = Gen.Frequency((3, 0), (3, 1), (1, 2), (1, 3));
        var rest = Gen.Select(Gen.Int[0, 3], Gen.Int[2, 4], Gen.OneOf(1, 4, 64, int.MaxValue), Gen.Bool, Gen.OneOf(0, 0, 2), Gen.Int[0, 1000]);
        return Gen.Select(image, shapeChoice, rest, (i, s, r) =>
        {
            (int rows, int channels, int height, int width, bool declared) = i;
            int[]? imageShape = s switch
            {
                0 => null,
                1 => [channels, height, width],
                2 => [channels * height, 1, width], // the right size, the wrong dimensions
                _ => [channels, height + 1, width], // the wrong size
            };
            return new ImageCase(rows, channels, height, width, declared, imageShape, r.Item1, r.Item2, r.Item3, r.Item4, r.Item5, r.Item6);
        });
    }

    private static NeuralNetworkTransformer Fit(MLContext context, MlpCase c, IDataView train, IDataView? validation)
    {
        var hidden = c.Hidden == 0 ? Array.Empty<int>() : [c.Hidden];
        var optimizer = new OptimizerOptions { LearningRate = c.LearningRate };
        return c.Task switch
        {
            Task.Multiclass => context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
            {
                FeatureColumnName = c.FeatureColumn, LabelColumnName = c.LabelColumn, HiddenLayers = hidden, Optimizer = optimizer, Epochs = c.Epochs, Seed = 1,
                Data = { BatchSize = c.BatchSize, DropLastPartialBatch = c.DropLast, ValidationFraction = validation is null ? c.ValidationFraction : 0, Shuffle = c.Shuffle, ShuffleBufferSize = c.ShuffleBuffer, SkipRowsWithMissingValues = c.SkipMissing },
            }).Fit(train, validation),
            Task.Binary => context.BinaryClassification.Trainers.Mlp(new MlpBinaryOptions
            {
                FeatureColumnName = c.FeatureColumn, LabelColumnName = c.LabelColumn, HiddenLayers = hidden, Optimizer = optimizer, Epochs = c.Epochs, Seed = 1,
                Data = { BatchSize = c.BatchSize, DropLastPartialBatch = c.DropLast, ValidationFraction = validation is null ? c.ValidationFraction : 0, Shuffle = c.Shuffle, ShuffleBufferSize = c.ShuffleBuffer, SkipRowsWithMissingValues = c.SkipMissing },
            }).Fit(train, validation),
            _ => context.Regression.Trainers.Mlp(new MlpRegressionOptions
            {
                FeatureColumnName = c.FeatureColumn, LabelColumnName = c.LabelColumn, HiddenLayers = hidden, Optimizer = optimizer, Epochs = c.Epochs, Seed = 1,
                Data = { BatchSize = c.BatchSize, DropLastPartialBatch = c.DropLast, ValidationFraction = validation is null ? c.ValidationFraction : 0, Shuffle = c.Shuffle, ShuffleBufferSize = c.ShuffleBuffer, SkipRowsWithMissingValues = c.SkipMissing },
            }).Fit(train, validation),
        };
    }

    private static void ScoreEveryRow(NeuralNetworkTransformer model, IDataView data)
    {
        var scored = model.Transform(data);
        var score = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([score]);
        if (score.Type is VectorDataViewType)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(score);
            var value = default(VBuffer<float>);
            while (cursor.MoveNext())
            {
                getter(ref value);
            }
        }
        else
        {
            var getter = cursor.GetGetter<float>(score);
            float value = 0;
            while (cursor.MoveNext())
            {
                getter(ref value);
            }
        }
    }

    /// <summary>
    /// Columns of every kind: Fs Vector&lt;Single, W&gt;, Fv Vector&lt;Single&gt; (variable size), Fd
    /// Vector&lt;Double, W&gt;, Fx Single; labels Lk key of K classes (value 0 = missing), Lb Boolean,
    /// Lf Single, Lt text. Values are missing (NaN, key 0) at the case's rate.
    /// </summary>
    private static IDataView Table(MLContext context, MlpCase c, int rows, int width, int seed)
    {
        var random = new Random(seed);
        bool Missing() => random.NextDouble() < c.MissingRate;
        var list = new List<TableRow>(rows);
        for (int i = 0; i < rows; i++)
        {
            var features = Enumerable.Range(0, width).Select(_ => Missing() ? float.NaN : (float)((random.NextDouble() * 4) - 2)).ToArray();
            list.Add(new TableRow
            {
                Fs = features,
                Fv = features,
                Fd = features.Select(f => (double)f).ToArray(),
                Fx = features[0],
                // LoadFromEnumerable reads a key member as a 0-based index; the key count itself becomes key 0, missing.
                Lk = Missing() ? (uint)c.Classes : (uint)random.Next(c.Classes),
                Lb = random.Next(2) == 1,
                Lf = Missing() ? float.NaN : features.Sum(),
                Lt = $"c{random.Next(c.Classes)}",
            });
        }

        var definition = SchemaDefinition.Create(typeof(TableRow));
        definition["Fs"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        definition["Fd"].ColumnType = new VectorDataViewType(NumberDataViewType.Double, width);
        definition["Lk"].ColumnType = new KeyDataViewType(typeof(uint), c.Classes);
        return context.Data.LoadFromEnumerable(list, definition);
    }

    private static IDataView ImageTable(MLContext context, ImageCase c)
    {
        var random = new Random(c.DataSeed);
        int size = c.Channels * c.Height * c.Width;
        var rows = Enumerable.Range(0, c.Rows).Select(_ => new ImageRow
        {
            Features = Enumerable.Range(0, size).Select(_ => (float)random.Next(256)).ToArray(),
            Label = (uint)random.Next(c.Classes), // a 0-based index, see Table
        }).ToList();
        var definition = SchemaDefinition.Create(typeof(ImageRow));
        definition["Features"].ColumnType = c.DeclareDimensions
            ? new VectorDataViewType(NumberDataViewType.Single, c.Channels, c.Height, c.Width)
            : new VectorDataViewType(NumberDataViewType.Single, size);
        definition["Label"].ColumnType = new KeyDataViewType(typeof(uint), c.Classes);
        return context.Data.LoadFromEnumerable(rows, definition);
    }

    private static NetworkLayer[] Architectures(int index) => index switch
    {
        0 => [Layer.Flatten(), Layer.Dense(4)],
        1 => [Layer.Conv2D(2), Layer.Relu(), Layer.Flatten()],
        2 => [Layer.Conv2D(2, kernelSize: 3, padding: 0), Layer.MaxPool2D(), Layer.Flatten(), Layer.Dense(3)],
        _ => [Layer.Conv2D(2), Layer.BatchNorm(), Layer.GlobalAveragePooling()],
    };

    private sealed class TableRow
    {
        public float[] Fs { get; set; } = [];

        public float[] Fv { get; set; } = [];

        public double[] Fd { get; set; } = [];

        public float Fx { get; set; }

        public uint Lk { get; set; }

        public bool Lb { get; set; }

        public float Lf { get; set; }

        public string Lt { get; set; } = "";
    }

    private sealed class ImageRow
    {
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }
}
