using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// A trained policy as an ML.NET transformer: an observation column in, the action (and, for discrete
/// actions, the per-action values) out. Saving it with <c>mlContext.Model.Save</c> writes only ML.NET's
/// own transformers (the policy network is an ONNX graph inside ML.NET's OnnxTransformer), so the zip
/// loads in a process that references only ML.NET and ONNX Runtime.
/// </summary>
/// <remarks>
/// Dispose it when done: its OnnxTransformer reads the ONNX graph from a file in the temp folder,
/// deleted on Dispose. A model loaded from a saved zip is independent of it.
/// </remarks>
public sealed class PolicyModel : ITransformer, IDisposable, ISavedAsChain
{
    private readonly OnnxScoring _scoring;

    internal PolicyModel(OnnxScoring scoring, string observationColumn, int observationSize)
    {
        _scoring = scoring;
        ObservationColumnName = observationColumn;
        ObservationSize = observationSize;
    }

    /// <summary>The observation column the model reads.</summary>
    public string ObservationColumnName { get; }

    /// <summary>The number of values in an observation.</summary>
    public int ObservationSize { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => _scoring.Transformer.IsRowToRowMapper;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The observation column is missing or not a vector of <see cref="ObservationSize"/> Single values.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scoring.Transformer.GetOutputSchema(CheckInput(inputSchema));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The observation column is missing or not a vector of <see cref="ObservationSize"/> Single values.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scoring.Transformer.GetRowToRowMapper(CheckInput(inputSchema));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The observation column is missing or not a vector of <see cref="ObservationSize"/> Single values.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema);
        return _scoring.Transformer.Transform(input);
    }

    /// <summary>Saves the scoring chain: the model zip holds only ML.NET's own transformers.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _scoring.Transformer.Save(ctx);

    ITransformer ISavedAsChain.SavedTransformer => _scoring.Transformer;

    /// <summary>Frees the ONNX Runtime session and deletes the temp copy of the ONNX graph.</summary>
    public void Dispose() => _scoring.Dispose();

    private DataViewSchema CheckInput(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var column = SchemaChecks.Find(schema, ObservationColumnName, "observation");
        if (column.Type is VectorDataViewType { IsKnownSize: true } vector && vector.ItemType == NumberDataViewType.Single && vector.Size == ObservationSize)
        {
            return schema;
        }

        throw new ArgumentException(
            $"The observation column '{ObservationColumnName}' is {column.Type}, but the policy takes a known-size vector of {ObservationSize} Single values (declare it with [VectorType({ObservationSize})]).",
            nameof(schema));
    }
}
