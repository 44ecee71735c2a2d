using ML.DeepExtensions.Layers;
using Microsoft.ML.Runtime;
using Microsoft.ML;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Supervised;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tabular;

/// <summary>
/// The MLP family: a flat features vector through the network that <see cref="MlpOptions"/>
/// describes, with feature standardisation fitted on the training rows.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class MlpTrainer<TOptions> : SupervisedNetworkTrainer<TOptions>
    where TOptions : MlpOptions
{
    private protected MlpTrainer(IHostEnvironment environment, TOptions options)
        : base(environment, options)
    {
    }

    private protected override long[] InputShape(DataViewSchema schema) => [SchemaChecks.FeatureWidth(schema, Options.FeatureColumnName)];

    private protected override void ValidateArchitecture(long[] inputShape, int outputWidth) =>
        NetworkBuilder.InferShapes(MlpNetwork.Architecture(Options), inputShape);

    private protected override nn.Module<Tensor, Tensor> BuildNetwork(long[] inputShape, IPredictionHead head, DataStatistics statistics)
    {
        var standardization = Options.StandardizeFeatures
            ? new Standardization(statistics[BatchRoles.Features].GetMeanAsSingle(), statistics[BatchRoles.Features].GetStandardDeviationAsSingle())
            : null;
        return MlpNetwork.Build(Options, (int)inputShape[0], head.OutputWidth, standardization, CreateOutputScale(statistics, head));
    }

    private protected override NetworkDescription Describe(long[] inputShape, int outputWidth) => new()
    {
        InputShape = inputShape,
        Layers = MlpNetwork.Architecture(Options),
        Outputs = outputWidth,
        Normalization = Options.StandardizeFeatures ? InputNormalization.Standardization : InputNormalization.None,
        LabelScale = HasOutputScale,
    };

    /// <summary>Whether <see cref="CreateOutputScale"/> makes a layer.</summary>
    private protected virtual bool HasOutputScale => false;

    private protected override bool HasLabelScale => HasOutputScale;

    private protected override nn.Module<Tensor, Tensor>? CreateLabelScale(DataStatistics statistics, IPredictionHead head) => CreateOutputScale(statistics, head);

    /// <summary>A fixed layer after the output (the regression trainer's rescaling to label units), or null.</summary>
    private protected virtual Standardization? CreateOutputScale(DataStatistics statistics, IPredictionHead head) => null;
}

/// <summary>
/// Multilayer perceptron for multiclass classification, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Multiclass classification</description></item>
/// <item><term>Input columns</term><description>Label: key type. Features: known-size vector of Single.</description></item>
/// <item><term>Output columns</term><description>Score: Vector&lt;Single, K&gt; of class probabilities (softmax). PredictedLabel: key with the label's class names.</description></item>
/// <item><term>Is normalization required?</term><description>No: features are standardised inside the network by default (<see cref="MlpOptions.StandardizeFeatures"/>).</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes: scoring runs an ONNX graph (<see cref="MLNet.NeuralNetworkTransformer.SaveOnnx"/>).</description></item>
/// <item><term>Saved model needs this library?</term><description>No: <c>mlContext.Model.Save</c> stores ML.NET's OnnxTransformer only.</description></item>
/// </list>
/// Create it with <c>mlContext.MulticlassClassification.Trainers.Mlp(...)</c>; see samples/TabularQuickStart.
/// </remarks>
public sealed class MlpMulticlassTrainer : MlpTrainer<MlpMulticlassOptions>
{
    internal MlpMulticlassTrainer(IHostEnvironment environment, MlpMulticlassOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "MlpMulticlass";

    private protected override IPredictionHead CreateHead() => new MulticlassHead(Options.LabelSmoothing);
}

/// <summary>
/// Multilayer perceptron for binary classification, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Binary classification</description></item>
/// <item><term>Input columns</term><description>Label: Boolean. Features: known-size vector of Single.</description></item>
/// <item><term>Output columns</term><description>Score: Single (the logit). Probability: Single (its sigmoid). PredictedLabel: Boolean.</description></item>
/// <item><term>Is normalization required?</term><description>No: features are standardised inside the network by default.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.BinaryClassification.Trainers.Mlp(...)</c>.
/// </remarks>
public sealed class MlpBinaryTrainer : MlpTrainer<MlpBinaryOptions>
{
    internal MlpBinaryTrainer(IHostEnvironment environment, MlpBinaryOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "MlpBinary";

    private protected override IPredictionHead CreateHead() => new BinaryHead(Options.PositiveClassWeight);
}

/// <summary>
/// Multilayer perceptron for regression, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Regression</description></item>
/// <item><term>Input columns</term><description>Label: Single. Features: known-size vector of Single.</description></item>
/// <item><term>Output columns</term><description>Score: Single.</description></item>
/// <item><term>Is normalization required?</term><description>No: features, and by default the label's scale, are handled inside the network.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.Regression.Trainers.Mlp(...)</c>.
/// </remarks>
public sealed class MlpRegressionTrainer : MlpTrainer<MlpRegressionOptions>
{
    internal MlpRegressionTrainer(IHostEnvironment environment, MlpRegressionOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "MlpRegression";

    private protected override IPredictionHead CreateHead() => new RegressionHead(Options.Loss, Options.HuberDelta, Options.StandardizeLabel);

    private protected override bool HasOutputScale => Options.StandardizeLabel;

    private protected override Standardization? CreateOutputScale(DataStatistics statistics, IPredictionHead head)
    {
        if (!Options.StandardizeLabel)
        {
            return null;
        }

        // Predict in label units: the output layer learns a standardised target and this layer maps it
        // back (x·std + mean, a Standardization with mean' = -mean/std and inverse std' = std), so
        // targets of any scale train at the default learning rate and the ONNX export needs nothing new.
        var (mean, std) = ((RegressionHead)head).LabelScaling;
        return Standardization.Rescale(mean, std, LayerNames.LabelScale);
    }
}
