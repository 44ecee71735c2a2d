using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>Regression: Single label; one output; <c>Score</c> as ML.NET's regression trainers produce.</summary>
/// <remarks>
/// With label standardisation the loss compares standardised values, (output − mean) / std against
/// (label − mean) / std, computed in float64 from the float32 tensors: a loss in label units overflows
/// float32 for labels beyond about 1e19 (their squares pass 3.4e38) and its gradients grow with the
/// label's scale. The network still outputs label units (its last layer undoes the scaling).
/// </remarks>
internal sealed class RegressionHead : IPredictionHead
{
    private readonly RegressionLoss _loss;
    private readonly double _huberDelta;
    private readonly bool _standardizeLabel;
    private double _labelMean;
    private double _labelScale = 1;

    public RegressionHead(RegressionLoss loss, double huberDelta, bool standardizeLabel = false)
    {
        _loss = loss;
        _huberDelta = huberDelta;
        _standardizeLabel = standardizeLabel;
    }

    /// <summary>The label's mean and standard deviation (1 when constant) of the training rows, as the loss and the network's label layer use them.</summary>
    public (double Mean, double Scale) LabelScaling => (_labelMean, _labelScale);

    public string TaskName => "regression";

    public int OutputWidth => 1;

    public void ValidateLabel(DataViewSchema schema, string labelColumn)
    {
        var column = SchemaChecks.Find(schema, labelColumn, "label");
        if (column.Type != NumberDataViewType.Single)
        {
            throw new ArgumentException(
                $"The label column '{labelColumn}' is {column.Type}, but regression needs a Single label. "
                + $"Use mlContext.Transforms.Conversion.ConvertType(\"{labelColumn}\", outputKind: DataKind.Single).", nameof(labelColumn));
        }
    }

    public BatchColumn LabelBinding(string labelColumn) => BatchColumn.RegressionLabel(labelColumn);

    public void ValidateStatistics(DataStatistics statistics, string labelColumn)
    {
        if (!_standardizeLabel)
        {
            return;
        }

        var label = statistics[BatchRoles.Label];
        double mean = label.Mean![0];
        double std = label.StandardDeviation![0];
        if (!double.IsFinite(mean) || !double.IsFinite(std))
        {
            throw new ArgumentException(
                $"The label column '{labelColumn}' has mean {mean} and standard deviation {std} over the training rows; "
                + "its values are too large for the statistics to be finite.", nameof(labelColumn));
        }

        // A constant label keeps scale 1; a scale too small for float32 (1/std must stay finite) likewise.
        _labelMean = mean;
        _labelScale = std > 1e-30 ? std : 1;
    }

    public Func<Tensor, Tensor, Tensor> CreateLoss()
    {
        double delta = _huberDelta;
        Func<Tensor, Tensor, Tensor> loss = _loss switch
        {
            RegressionLoss.MeanAbsoluteError => (output, label) => nn.functional.l1_loss(output, label),
            RegressionLoss.Huber => (output, label) => nn.functional.huber_loss(output, label, delta: delta),
            _ => (output, label) => nn.functional.mse_loss(output, label),
        };
        if (!_standardizeLabel)
        {
            return (output, label) => loss(output.view(-1), label);
        }

        double mean = _labelMean, scale = _labelScale;
        // Huber's threshold stays in label units: delta / std on the standardised values.
        delta = _huberDelta / scale;
        return (output, label) => loss(Standardize(output.view(-1), mean, scale), Standardize(label, mean, scale));
    }

    private static Tensor Standardize(Tensor values, double mean, double scale) =>
        ((values.to_type(ScalarType.Float64) - mean) / scale).to_type(ScalarType.Float32);

    public IReadOnlyList<IMetric> CreateMetrics() => [new MeanAbsoluteErrorMetric(), new RootMeanSquaredErrorMetric()];

    public ITransformer CreateScorer(IHostEnvironment environment, IDataView rawScored, string rawColumn, string labelColumn) =>
        MLNetScorers.Regression(environment, rawScored.Schema, rawColumn);

    public IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape.Column label) =>
        [SchemaShapes.Scalar(ColumnNames.Score, NumberDataViewType.Single)];
}
