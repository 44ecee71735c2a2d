using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>Regression: Single label; one output; <c>Score</c> as ML.NET's regression trainers produce.</summary>
internal sealed class RegressionHead : IPredictionHead
{
    private readonly RegressionLoss _loss;
    private readonly double _huberDelta;

    public RegressionHead(RegressionLoss loss, double huberDelta)
    {
        _loss = loss;
        _huberDelta = huberDelta;
    }

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
    }

    public Func<Tensor, Tensor, Tensor> CreateLoss()
    {
        double delta = _huberDelta;
        return _loss switch
        {
            RegressionLoss.MeanAbsoluteError => (output, label) => nn.functional.l1_loss(output.view(-1), label),
            RegressionLoss.Huber => (output, label) => nn.functional.huber_loss(output.view(-1), label, delta: delta),
            _ => (output, label) => nn.functional.mse_loss(output.view(-1), label),
        };
    }

    public IReadOnlyList<IMetric> CreateMetrics() => [new MeanAbsoluteErrorMetric(), new RootMeanSquaredErrorMetric()];

    public ITransformer CreateScorer(IHostEnvironment environment, IDataView rawScored, string rawColumn, string labelColumn) =>
        MLNetScorers.Regression(environment, rawScored.Schema, rawColumn);

    public IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape.Column label) =>
        [SchemaShapes.Scalar(ColumnNames.Score, NumberDataViewType.Single)];
}
