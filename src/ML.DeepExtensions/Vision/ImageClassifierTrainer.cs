using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks.Vision;
using ML.DeepExtensions.Supervised;
using ML.DeepExtensions.Layers;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision;

/// <summary>
/// A convolutional network for multiclass image classification, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Multiclass classification of images</description></item>
/// <item><term>Input columns</term><description>Label: key type. Features: known-size vector of Single holding C×H×W pixels (channel-major), e.g. from ImageAnalytics' ExtractPixels or any loader.</description></item>
/// <item><term>Output columns</term><description>Score: Vector&lt;Single, K&gt; class probabilities. PredictedLabel: key with the label's class names.</description></item>
/// <item><term>Is normalization required?</term><description>No: pixel scaling and per-channel standardisation are layers of the network.</description></item>
/// <item><term>Architectures</term><description>Presets in <see cref="Architectures"/>, or any list of <see cref="Layer"/>s; shape errors are reported before training with the layer index.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.MulticlassClassification.Trainers.ImageClassifier(...)</c>; see samples/FashionMnist.
/// </remarks>
public sealed class ImageClassifierTrainer : SupervisedNetworkTrainer<ImageClassifierOptions>
{
    internal ImageClassifierTrainer(IHostEnvironment environment, ImageClassifierOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "ImageClassifier";

    private protected override IPredictionHead CreateHead() => new MulticlassHead(labelSmoothing: 0);

    private protected override long[] InputShape(DataViewSchema schema)
    {
        var vector = SchemaChecks.SingleVector(schema, Options.FeatureColumnName,
            "Images give one with mlContext.Transforms.ExtractPixels (C x H x W pixels, channel-major).");

        if (Options.ImageShape is { } declared)
        {
            long[] shape = declared.Select(d => (long)d).ToArray();
            if (shape.Aggregate(1L, (a, b) => a * b) != vector.Size)
            {
                throw new ArgumentException(
                    $"ImageShape {string.Join("x", declared)} has {shape.Aggregate(1L, (a, b) => a * b)} values, but the features column '{Options.FeatureColumnName}' has {vector.Size} per row.",
                    nameof(schema));
            }

            // A column that declares its own image dimensions must agree: [H, W] is read as one channel.
            var dimensions = vector.Dimensions.Select(d => (long)d).ToArray();
            long[] implied = dimensions.Length == 2 ? [1, .. dimensions] : dimensions;
            if (dimensions.Length > 1 && !implied.SequenceEqual(shape))
            {
                throw new ArgumentException(
                    $"ImageShape {string.Join("x", declared)} contradicts the dimensions {string.Join("x", dimensions)} that the features column '{Options.FeatureColumnName}' declares. "
                    + "Leave ImageShape unset to use the column's dimensions, or reshape the column first.", nameof(schema));
            }

            return shape;
        }

        if (vector.Dimensions.Length == 3)
        {
            return vector.Dimensions.Select(d => (long)d).ToArray();
        }

        throw new ArgumentException(
            $"The features column '{Options.FeatureColumnName}' is a flat vector of {vector.Size} values; set ImageShape (channels, height, width) "
            + "so the trainer knows how to read the pixels.", nameof(schema));
    }

    private protected override void ValidateArchitecture(long[] inputShape, int outputWidth) =>
        NetworkBuilder.InferShapes(Options.Architecture, inputShape);

    private protected override nn.Module<Tensor, Tensor> BuildNetwork(long[] inputShape, IPredictionHead head, DataStatistics statistics)
    {
        int channels = (int)inputShape[0];
        var mean = new float[channels];
        var std = Enumerable.Repeat(1f, channels).ToArray();
        if (Options.NormalizePerChannel)
        {
            (mean, std) = ChannelStatistics(statistics[BatchRoles.Features], channels, Options.PixelScale);
        }

        var normalization = new ImageNormalization(Options.PixelScale, mean, std);
        return NetworkBuilder.Build(Options.Architecture, inputShape, head.OutputWidth, normalization);
    }

    private protected override NetworkDescription Describe(long[] inputShape, int outputWidth) => new()
    {
        InputShape = inputShape,
        Layers = Options.Architecture,
        Outputs = outputWidth,
        Normalization = InputNormalization.Image,
    };

    private protected override BatchAugmentation? CreateAugmentation(int seed) =>
        Options.Augmentation is { IsIdentity: false } augmentation ? new ImageBatchAugmentation(augmentation, seed) : null;

    /// <summary>
    /// Pools the per-pixel means and deviations of the statistics pass into per-channel values of the
    /// scaled pixels: mean_c = avg(mean_p), var_c = avg(var_p + mean_p²) − mean_c².
    /// </summary>
    private static (float[] Mean, float[] Std) ChannelStatistics(ColumnStatistics pixels, int channels, float scale)
    {
        var pixelMean = pixels.Mean!;
        var pixelStd = pixels.StandardDeviation!;
        int perChannel = pixelMean.Count / channels;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int p = c * perChannel; p < (c + 1) * perChannel; p++)
            {
                sum += pixelMean[p];
                squares += (pixelStd[p] * pixelStd[p]) + (pixelMean[p] * pixelMean[p]);
            }

            double m = sum / perChannel;
            double variance = Math.Max(0, (squares / perChannel) - (m * m));
            mean[c] = (float)(m * scale);
            std[c] = variance > 1e-12 ? (float)(Math.Sqrt(variance) * scale) : 1f;
        }

        return (mean, std);
    }
}
