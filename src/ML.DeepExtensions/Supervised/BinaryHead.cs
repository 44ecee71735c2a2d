using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// Binary: Boolean label; one logit; <c>Score</c> (the logit), <c>Probability</c> (its sigmoid) and
/// a Boolean <c>PredictedLabel</c>, as ML.NET's binary trainers produce.
/// </summary>
internal sealed class BinaryHead : IPredictionHead
{
    private readonly double _positiveWeight;

    public BinaryHead(double positiveWeight) => _positiveWeight = positiveWeight;

    public string TaskName => "binary classification";

    public int OutputWidth => 1;

    public void ValidateLabel(DataViewSchema schema, string labelColumn)
    {
        var column = SchemaChecks.Find(schema, labelColumn, "label");
        if (column.Type is not BooleanDataViewType)
        {
            throw new ArgumentException(
                $"The label column '{labelColumn}' is {column.Type}, but binary classification needs a Boolean label. "
                + $"Convert it, e.g. with mlContext.Transforms.Conversion.ConvertType(\"{labelColumn}\", outputKind: DataKind.Boolean) "
                + "or a custom mapping.", nameof(labelColumn));
        }
    }

    public BatchColumn LabelBinding(string labelColumn) => BatchColumn.BinaryLabel(labelColumn);

    public void ValidateStatistics(DataStatistics statistics, string labelColumn)
    {
        var label = statistics[BatchRoles.Label];
        if (label.ObservedClassCount < 2)
        {
            string only = label.ClassCounts is { Count: 2 } counts && counts[1] > 0 ? "true" : "false";
            throw new ArgumentException(
                $"The label column '{labelColumn}' is {only} in every training row; a binary classifier needs both classes.", nameof(labelColumn));
        }
    }

    public Func<Tensor, Tensor, Tensor> CreateLoss()
    {
        var positiveWeight = _positiveWeight == 1.0 ? null : tensor(new[] { (float)_positiveWeight }).DetachFromDisposeScope();
        return (output, label) => nn.functional.binary_cross_entropy_with_logits(
            output.view(-1), label, pos_weights: positiveWeight is null || positiveWeight.device_type == output.device_type
                ? positiveWeight
                : positiveWeight = positiveWeight.to(output.device).DetachFromDisposeScope());
    }

    public IReadOnlyList<IMetric> CreateMetrics() => [new AccuracyMetric()];

    public ITransformer CreateScorer(IHostEnvironment environment, IDataView rawScored, string rawColumn, string labelColumn)
    {
        var scorer = MLNetScorers.Binary(environment, rawScored.Schema, rawColumn);
        // Probability = 1 / (1 + exp(-Score)): a fixed Platt calibrator with slope -1 is exactly the sigmoid.
        var calibrator = new MLContext(seed: 0).BinaryClassification.Calibrators.Platt(slope: -1, offset: 0, ColumnNames.Score)
            .Fit(scorer.Transform(rawScored));
        return new TransformerChain<ITransformer>(scorer, calibrator);
    }

    public IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape.Column label) =>
    [
        SchemaShapes.Scalar(ColumnNames.Score, NumberDataViewType.Single),
        SchemaShapes.Scalar(ColumnNames.Probability, NumberDataViewType.Single),
        SchemaShapes.Scalar(ColumnNames.PredictedLabel, BooleanDataViewType.Instance),
    ];
}
