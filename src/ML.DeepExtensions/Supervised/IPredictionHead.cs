using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// What differs between multiclass, binary and regression: the label's form, the network's output
/// width and loss, the metrics, the ONNX head that turns raw outputs into ML.NET's conventional
/// columns, and the ML.NET transforms that finish them. The training path is shared.
/// </summary>
internal interface IPredictionHead
{
    /// <summary>A short name for logs and errors, e.g. "multiclass classification".</summary>
    string TaskName { get; }

    /// <summary>Checks the label column's type; throws naming the column and what is needed.</summary>
    void ValidateLabel(DataViewSchema schema, string labelColumn);

    /// <summary>
    /// Checks the validation data's label after <see cref="ValidateLabel"/> has run on the training
    /// schema, without changing what the head learned from it, and returns the validation data to
    /// read (a multiclass head maps a reordered key onto the training key).
    /// </summary>
    IDataView AlignValidationLabel(IDataView validation, string labelColumn)
    {
        ValidateLabel(validation.Schema, labelColumn);
        return validation;
    }

    /// <summary>How the label becomes a tensor.</summary>
    BatchColumn LabelBinding(string labelColumn);

    /// <summary>Checks the label statistics of the training rows (single class, empty).</summary>
    void ValidateStatistics(DataStatistics statistics, string labelColumn);

    /// <summary>Outputs of the network's last layer.</summary>
    int OutputWidth { get; }

    /// <summary>The mean loss of (network output, label tensor).</summary>
    Func<Tensor, Tensor, Tensor> CreateLoss();

    /// <summary>Metrics logged besides the loss.</summary>
    IReadOnlyList<IMetric> CreateMetrics();

    /// <summary>
    /// The ML.NET transformers that turn the network's raw output column (a vector of
    /// <see cref="OutputWidth"/> floats from the ONNX graph) into the task's conventional columns.
    /// </summary>
    ITransformer CreateScorer(IHostEnvironment environment, IDataView rawScored, string rawColumn, string labelColumn);

    /// <summary>
    /// Declares the output columns (for <c>GetOutputSchema</c>), given the label column's shape;
    /// <see cref="ValidateLabel"/> may not have run yet.
    /// </summary>
    IEnumerable<SchemaShape.Column> OutputColumns(SchemaShape.Column label);
}
