using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// Multiclass: key label; K logits; ML.NET's multiclass scorer gives the softmax <c>Score</c>
/// (Vector&lt;Single, K&gt;) and a key <c>PredictedLabel</c> with the label's class names.
/// </summary>
internal sealed class MulticlassHead : IPredictionHead
{
    private readonly double _labelSmoothing;
    private string[] _classNames = [];

    public MulticlassHead(double labelSmoothing) => _labelSmoothing = labelSmoothing;

    public string TaskName => "multiclass classification";

    public int OutputWidth => _classNames.Length;

    public void ValidateLabel(DataViewSchema schema, string labelColumn)
    {
        var (column, key) = CheckKey(schema, labelColumn, training: true);
        _classNames = ClassNames(column, key);
    }

    public IDataView AlignValidationLabel(IDataView validation, string labelColumn)
    {
        // The validation key must not replace the training one: the class count and names come from training.
        CheckKey(validation.Schema, labelColumn, training: false);
        return ValidationChecks.AlignClassKey(validation, labelColumn, _classNames);
    }

    /// <summary>The label must be a key; the training key needs two classes (a validation key may hold fewer).</summary>
    private static (DataViewSchema.Column Column, KeyDataViewType Key) CheckKey(DataViewSchema schema, string labelColumn, bool training)
    {
        var column = SchemaChecks.Find(schema, labelColumn, "label");
        if (column.Type is not KeyDataViewType key)
        {
            throw new ArgumentException(
                $"The label column '{labelColumn}' is {column.Type}, but multiclass classification needs a key column. "
                + $"Add mlContext.Transforms.Conversion.MapValueToKey(\"{labelColumn}\") before the trainer.", nameof(labelColumn));
        }

        if (training && key.Count < 2)
        {
            throw new ArgumentException(
                $"The label column '{labelColumn}' has {key.Count} class(es); multiclass classification needs at least two.", nameof(labelColumn));
        }

        return (column, key);
    }

    public BatchColumn LabelBinding(string labelColumn) => BatchColumn.ClassLabel(labelColumn);

    public void ValidateStatistics(DataStatistics statistics, string labelColumn)
    {
        var label = statistics[BatchRoles.Label];
        if (label.ObservedClassCount < 2)
        {
            int only = label.ClassCounts?.ToList().FindIndex(c => c > 0) ?? -1;
            throw new ArgumentException(
                $"The label column '{labelColumn}' has a single class in the training rows ({(only >= 0 && only < _classNames.Length ? _classNames[only] : "none")}); "
                + "a classifier needs at least two classes.", nameof(labelColumn));
        }
    }

    public Func<Tensor, Tensor, Tensor> CreateLoss()
    {
        double smoothing = _labelSmoothing;
        if (smoothing == 0)
        {
            return (output, label) => nn.functional.cross_entropy(output, label);
        }

        // (1 - ε)·NLL + ε·mean over classes of -log p: the usual label-smoothed cross-entropy.
        return (output, label) =>
        {
            var logProbabilities = nn.functional.log_softmax(output, 1);
            var nll = nn.functional.nll_loss(logProbabilities, label);
            var uniform = -logProbabilities.mean([1L]).mean();
            return ((1 - smoothing) * nll) + (smoothing * uniform);
        };
    }

    public IReadOnlyList<IMetric> CreateMetrics() => [new AccuracyMetric()];

    public ITransformer CreateScorer(IHostEnvironment environment, IDataView rawScored, string rawColumn, string labelColumn) =>
        MLNetScorers.Multiclass(environment, rawScored.Schema, rawColumn, _classNames.Length, labelColumn, _classNames);

    public IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape.Column label) =>
    [
        SchemaShapes.Vector(ColumnNames.Score, NumberDataViewType.Single),
        SchemaShapes.Key(ColumnNames.PredictedLabel, withTextKeyValues: true),
    ];

    private static string[] ClassNames(DataViewSchema.Column column, KeyDataViewType key)
    {
        var names = Enumerable.Range(1, (int)key.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var values = KeyValueNames.Read(column) ?? [];
        for (int i = 0; i < Math.Min(values.Length, names.Length); i++)
        {
            names[i] = values[i];
        }

        return names;
    }
}
