using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// A generative adversarial network on a column of images: an unconditional DCGAN, or, with a key
/// label column, a class-conditional GAN whose generator embeds the class and whose discriminator
/// also classifies (AC-GAN, Odena et al. 2017). Both networks and both optimizers live on one
/// <see cref="TrainingRun"/>, with the exponential moving average of the generator as a third,
/// untrained module, so checkpoints hold all three and a resumed run continues exactly.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Image generation (and a realness score for images)</description></item>
/// <item><term>Input columns</term><description>Features: known-size Single vector of C×H×W pixels (ExtractPixels, the IDX loader). Label (conditional only): key.</description></item>
/// <item><term>What Fit returns</term><description><see cref="ImageGanModel"/>: its <see cref="ImageGanModel.Generator"/> maps a Noise column (plus the label) to a GeneratedImage column; the model itself scores images with the discriminator (a Score column); <see cref="ImageGanModel.Sample"/> generates rows.</description></item>
/// <item><term>Is normalization required?</term><description>No: pixels are mapped from [0, PixelScale] to [−1, 1] and back inside the networks' graphs.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes, both networks.</description></item>
/// <item><term>Saved model needs this library?</term><description>No: both transformers are ML.NET's own OnnxTransformer chains.</description></item>
/// </list>
/// Create it with <c>mlContext.Transforms.ImageGan(...)</c>; docs/generative-adversarial-networks.md lists the stability knobs.
/// </remarks>
public sealed class ImageGanTrainer : IEstimator<ImageGanModel>
{
    private const string ComponentName = "ImageGan";
    private readonly IHostEnvironment _environment;

    internal ImageGanTrainer(IHostEnvironment environment, ImageGanOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        OptionChecks.Require(options.Data.ValidationFraction == 0, "Data.ValidationFraction", options.Data.ValidationFraction,
            "must be 0: a GAN has no validation loss to hold rows out for (evaluate samples with FrechetDistance instead)");
        _environment = environment;
        Options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public ImageGanOptions Options { get; }

    /// <summary>Trains both networks on <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type, the images are not one shape, the networks do not fit the images, or the data is empty.</exception>
    /// <exception cref="TrainingDivergedException">A loss became NaN or infinite; the last checkpoint written before it is kept.</exception>
    public ImageGanModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = ImageShape(input.Schema);
        var classNames = ClassNames(input.Schema);
        int classes = classNames?.Length ?? 0;
        var generatorLayers = Options.Generator ?? GanArchitectures.DcganGenerator(shape, Options.BaseFilters, classes, Options.LabelEmbeddingSize);
        var discriminatorLayers = Options.Discriminator ?? GanArchitectures.DcganDiscriminator(shape, Options.BaseFilters, classes, Options.SpectralNormalization);
        long[] noiseShape = [Options.NoiseSize + (classes > 0 ? 1 : 0)];
        CheckNetworks(generatorLayers, discriminatorLayers, noiseShape, shape, classes);

        var host = _environment.Register(ComponentName);
        using var channel = host.Start(ComponentName);
        var run = new TrainingRun(Options, defaultSeed: host.Rand.Next(), [new ChannelLogger(channel, ComponentName)]);
        int seed = run.Seed;
        var columns = new List<BatchColumn> { BatchColumn.Features(Options.FeatureColumnName, shape) };
        if (classes > 0)
        {
            columns.Add(BatchColumn.ClassLabel(Options.LabelColumnName!));
        }

        var source = new DataViewBatchSource(input, columns, new BatchSourceOptions
        {
            BatchSize = Options.Data.BatchSize,
            Shuffle = Options.Data.Shuffle,
            ShuffleBufferSize = Options.Data.ShuffleBufferSize > 0 ? Options.Data.ShuffleBufferSize : null,
            ShuffleBufferBytes = Options.Data.ShuffleBufferBytes,
            Seed = seed,
            DropLastPartialBatch = Options.Data.DropLastPartialBatch,
            MissingValues = Options.Data.SkipRowsWithMissingValues ? MissingValuePolicy.SkipRow : MissingValuePolicy.Error,
        })
        {
            LastEpoch = Options.Epochs - 1,
        };

        TrainingRun.SeedForInitialisation(seed);
        var generator = run.AddModule("generator", NetworkBuilder.BuildLayers(generatorLayers, noiseShape, out _));
        var discriminator = run.AddModule("discriminator", NetworkBuilder.BuildLayers(discriminatorLayers, shape, out _));
        var average = run.AddModule("generator_ema", NetworkBuilder.BuildLayers(generatorLayers, noiseShape, out _));
        GeneratorAverage.CopyInto(generator, average);
        foreach (var parameter in average.parameters())
        {
            parameter.requires_grad = false;
        }

        var discriminatorOptimizer = run.CreateOptimizer("discriminator", discriminator, Options.Optimizer, Options.LearningRateSchedule);
        var generatorOptimizer = run.CreateOptimizer("generator", generator, Options.GeneratorOptimizer);
        RecordSettings(run, generatorLayers, discriminatorLayers, shape, classes);
        var loop = new AdversarialLoop(Options, run, generator, discriminator, average, discriminatorOptimizer, generatorOptimizer, classes, channel);
        try
        {
            loop.Train(source, shape, classNames);
        }
        finally
        {
            source.DiscardPreparedEpoch();
        }

        channel.Info(MessageSensitivity.None, $"{ComponentName}: trained {run.Step} steps on {string.Join("x", shape)} images, seed {seed}.");
        average.eval();
        discriminator.eval();
        var generatorGraph = ImageGanGraphs.Generator(Options, average, generatorLayers, shape, classes);
        var discriminatorGraph = ImageGanGraphs.Discriminator(Options, discriminator, discriminatorLayers, shape);
        return new ImageGanModel(_environment, Options, generatorGraph, discriminatorGraph, average, discriminator, shape, classNames, run.History, input);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var features = SchemaChecks.Find(inputSchema, Options.FeatureColumnName, "features");
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentException($"The features column '{Options.FeatureColumnName}' must be a known-size vector of Single.", nameof(inputSchema));
        }

        return SchemaChecks.Append(inputSchema, [SchemaShapes.Scalar(ColumnNames.Score, NumberDataViewType.Single)]);
    }

    /// <summary>[C, H, W] from the column's dimensions or <see cref="ImageGanOptions.ImageShape"/>; throws naming the column.</summary>
    private long[] ImageShape(DataViewSchema schema)
    {
        var column = SchemaChecks.Find(schema, Options.FeatureColumnName, "features");
        if (column.Type is VectorDataViewType { IsKnownSize: false, ItemType: var item } && item == NumberDataViewType.Single)
        {
            throw new ArgumentException(
                $"The features column '{Options.FeatureColumnName}' is a variable-size vector: its images may differ in shape. A GAN needs every image the same shape; "
                + "resize them first (mlContext.Transforms.ResizeImages before ExtractPixels) so the column is Vector<Single, C, H, W>.", nameof(schema));
        }

        var vector = SchemaChecks.SingleVector(schema, Options.FeatureColumnName, "Images give one with mlContext.Transforms.ExtractPixels (C x H x W pixels, channel-major).");
        long[] dimensions = [.. vector.Dimensions.Select(d => (long)d)];
        if (Options.ImageShape is { } declared)
        {
            long[] shape = [.. declared.Select(d => (long)d)];
            if (shape.Aggregate(1L, (a, b) => a * b) != vector.Size)
            {
                throw new ArgumentException(
                    $"ImageShape {string.Join("x", declared)} has {shape.Aggregate(1L, (a, b) => a * b)} values, but the features column '{Options.FeatureColumnName}' has {vector.Size} per row.", nameof(schema));
            }

            return shape;
        }

        return dimensions.Length switch
        {
            3 => dimensions,
            2 => [1, dimensions[0], dimensions[1]],
            _ => throw new ArgumentException(
                $"The features column '{Options.FeatureColumnName}' is a flat vector of {vector.Size} values; set ImageShape (channels, height, width) so the GAN knows the image shape.", nameof(schema)),
        };
    }

    private string[]? ClassNames(DataViewSchema schema)
    {
        if (Options.LabelColumnName is not { } label)
        {
            return null;
        }

        var column = SchemaChecks.Find(schema, label, "label");
        if (column.Type is not KeyDataViewType key)
        {
            throw new ArgumentException(
                $"The label column '{label}' is {column.Type}, but a class-conditional GAN needs a key column. "
                + $"Add mlContext.Transforms.Conversion.MapValueToKey(\"{label}\") before the trainer, or leave LabelColumnName unset for an unconditional GAN.", nameof(schema));
        }

        if (key.Count < 2)
        {
            throw new ArgumentException($"The label column '{label}' has {key.Count} class(es); a class-conditional GAN needs at least two.", nameof(schema));
        }

        var names = Enumerable.Range(1, (int)key.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var values = KeyValueNames.Read(column) ?? [];
        for (int i = 0; i < Math.Min(values.Length, names.Length); i++)
        {
            names[i] = values[i];
        }

        return names;
    }

    private static void CheckNetworks(IReadOnlyList<NetworkLayer> generator, IReadOnlyList<NetworkLayer> discriminator, long[] noiseShape, long[] imageShape, int classes)
    {
        IReadOnlyList<long[]> generatorShapes;
        try
        {
            generatorShapes = NetworkBuilder.InferShapes(generator, noiseShape, requireFlatEnd: false);
        }
        catch (LayerShapeException e)
        {
            throw new LayerShapeException($"The generator does not fit its input [{NetworkLayer.Format(noiseShape)}] (the noise{(classes > 0 ? " and the class index" : "")}): {e.Message}", e);
        }

        var produced = generatorShapes.Count == 0 ? noiseShape : generatorShapes[^1];
        if (!produced.SequenceEqual(imageShape))
        {
            throw new LayerShapeException(
                $"The generator makes images [{NetworkLayer.Format(produced)}], but the training images are [{NetworkLayer.Format(imageShape)}]. "
                + "Change the generator's layers (its Reshape and transposed convolutions) so it ends with the image shape.");
        }

        IReadOnlyList<long[]> discriminatorShapes;
        try
        {
            discriminatorShapes = NetworkBuilder.InferShapes(discriminator, imageShape, requireFlatEnd: false);
        }
        catch (LayerShapeException e)
        {
            throw new LayerShapeException($"The discriminator does not fit the images [{NetworkLayer.Format(imageShape)}]: {e.Message}", e);
        }

        long[] wanted = [1 + classes];
        if (discriminatorShapes.Count == 0 || !discriminatorShapes[^1].SequenceEqual(wanted))
        {
            throw new LayerShapeException(
                $"The discriminator ends with [{NetworkLayer.Format(discriminatorShapes.Count == 0 ? imageShape : discriminatorShapes[^1])}]; it must end with [{wanted[0]}] "
                + (classes > 0 ? $"(a realness logit and {classes} class logits)." : "(one realness logit): end it with Dense(1)."));
        }
    }

    private void RecordSettings(TrainingRun run, IReadOnlyList<NetworkLayer> generator, IReadOnlyList<NetworkLayer> discriminator, long[] shape, int classes)
    {
        run.RecordSettings("Data", Options.Data);
        run.RecordSetting("gan.generator.layers", string.Join(", ", generator.Select(l => l.Describe())));
        run.RecordSetting("gan.discriminator.layers", string.Join(", ", discriminator.Select(l => l.Describe())));
        run.RecordSetting("gan.image", string.Join("x", shape));
        run.RecordSetting("gan.classes", classes.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("gan.noise", Options.NoiseSize.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("gan.loss", Options.Loss.ToString());
        run.RecordSetting("gan.ema", Options.EmaDecay.ToString(CultureInfo.InvariantCulture));
        if (Options.Loss == GanLoss.WassersteinGradientPenalty)
        {
            run.RecordSetting("gan.gradient_penalty", Options.GradientPenaltyWeight.ToString(CultureInfo.InvariantCulture));
        }

        run.RecordSetting("gan.discriminator_steps", Options.DiscriminatorSteps.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("gan.classification_weight", Options.ClassificationWeight.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("gan.pixel_scale", Options.PixelScale.ToString(CultureInfo.InvariantCulture));
    }
}
