using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Supervised;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// The numeric sequence classifiers: a known-size Single vector read as [steps, features], each step
/// feature standardised inside the network, then sequence layers and the task's output.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class NumericSequenceTrainer<TOptions> : SupervisedNetworkTrainer<TOptions>
    where TOptions : NumericSequenceOptions
{
    private protected NumericSequenceTrainer(IHostEnvironment environment, TOptions options)
        : base(environment, options)
    {
    }

    private protected override long[] InputShape(DataViewSchema schema)
    {
        var vector = SchemaChecks.SingleVector(schema, Options.FeatureColumnName,
            "Gather the sequence into one vector, step by step, e.g. with mlContext.Transforms.Concatenate.");
        if (Options.Steps is { } steps && Options.StepFeatures is { } features)
        {
            if ((long)steps * features != vector.Size)
            {
                throw new ArgumentException(
                    $"Steps {steps} x StepFeatures {features} = {(long)steps * features} values, but the features column '{Options.FeatureColumnName}' has {vector.Size} per row.", nameof(schema));
            }

            return [steps, features];
        }

        if (vector.Dimensions.Length == 2)
        {
            return [vector.Dimensions[0], vector.Dimensions[1]];
        }

        throw new ArgumentException(
            $"The features column '{Options.FeatureColumnName}' is a vector of {vector.Size} values without [steps, features] dimensions; "
            + "set Steps and StepFeatures so the trainer knows how to read it as a sequence.", nameof(schema));
    }

    private protected override void ValidateArchitecture(long[] inputShape, int outputWidth) =>
        NetworkBuilder.InferShapes(Options.Architecture, inputShape);

    private protected override nn.Module<Tensor, Tensor> BuildNetwork(long[] inputShape, IPredictionHead head, DataStatistics statistics)
    {
        int features = (int)inputShape[1];
        var (mean, std) = Options.StandardizeFeatures
            ? StepFeatureStatistics(statistics[BatchRoles.Features], features)
            : (new float[features], Enumerable.Repeat(1f, features).ToArray());
        return NetworkBuilder.Build(Options.Architecture, inputShape, head.OutputWidth, new Standardization(mean, std));
    }

    private protected override NetworkDescription Describe(long[] inputShape, int outputWidth) => new()
    {
        InputShape = inputShape,
        Layers = Options.Architecture,
        Outputs = outputWidth,
        Normalization = InputNormalization.Standardization,
    };

    /// <summary>Per-feature mean and deviation over all steps, pooled from the per-value statistics of the [T, F] rows.</summary>
    private static (float[] Mean, float[] Std) StepFeatureStatistics(ColumnStatistics values, int features)
    {
        var valueMean = values.Mean!;
        var valueStd = values.StandardDeviation!;
        int steps = valueMean.Count / features;
        var mean = new float[features];
        var std = new float[features];
        for (int f = 0; f < features; f++)
        {
            double sum = 0, squares = 0;
            for (int t = 0; t < steps; t++)
            {
                int i = (t * features) + f;
                sum += valueMean[i];
                squares += (valueStd[i] * valueStd[i]) + (valueMean[i] * valueMean[i]);
            }

            double m = sum / steps;
            double variance = Math.Max(0, (squares / steps) - (m * m));
            mean[f] = (float)m;
            std[f] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }

        return (mean, std);
    }
}

/// <summary>
/// A recurrent network for multiclass classification of numeric sequences, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Multiclass classification of fixed-length numeric sequences</description></item>
/// <item><term>Input columns</term><description>Label: key type. Features: known-size vector of Single holding T steps of F values, step by step (declared as [T, F] dimensions or set with <see cref="NumericSequenceOptions.Steps"/> and <see cref="NumericSequenceOptions.StepFeatures"/>).</description></item>
/// <item><term>Output columns</term><description>Score: Vector&lt;Single, K&gt; class probabilities. PredictedLabel: key with the label's class names.</description></item>
/// <item><term>Is normalization required?</term><description>No: each step feature is standardised inside the network by default.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.MulticlassClassification.Trainers.SequenceClassifier(...)</c>; see docs/sequence-models.md.
/// </remarks>
public sealed class SequenceClassifierTrainer : NumericSequenceTrainer<SequenceClassifierOptions>
{
    internal SequenceClassifierTrainer(IHostEnvironment environment, SequenceClassifierOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "SequenceClassifier";

    private protected override IPredictionHead CreateHead() => new MulticlassHead(Options.LabelSmoothing);
}

/// <summary>
/// A recurrent network for binary classification of numeric sequences, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Binary classification of fixed-length numeric sequences</description></item>
/// <item><term>Input columns</term><description>Label: Boolean. Features: known-size vector of Single holding T steps of F values, as for <see cref="SequenceClassifierTrainer"/>.</description></item>
/// <item><term>Output columns</term><description>Score (the logit), Probability (its sigmoid), PredictedLabel (Boolean): ML.NET's binary scorer.</description></item>
/// <item><term>Is normalization required?</term><description>No: each step feature is standardised inside the network by default.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.BinaryClassification.Trainers.SequenceClassifier(...)</c>; see docs/sequence-models.md.
/// </remarks>
public sealed class SequenceBinaryClassifierTrainer : NumericSequenceTrainer<SequenceBinaryClassifierOptions>
{
    internal SequenceBinaryClassifierTrainer(IHostEnvironment environment, SequenceBinaryClassifierOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "SequenceBinaryClassifier";

    private protected override IPredictionHead CreateHead() => new BinaryHead(Options.PositiveClassWeight);
}
