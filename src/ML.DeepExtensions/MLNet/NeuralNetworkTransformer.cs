using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;
using TorchSharp;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// A trained network inside an ML.NET pipeline. Scoring runs the network's ONNX export through
/// ML.NET's own OnnxTransformer (plus ML.NET transforms that shape the outputs), so
/// <c>mlContext.Model.Save</c> writes only ML.NET's own components: the saved model loads and
/// scores in a process that never references ML.DeepExtensions. In memory this object also
/// keeps the TorchSharp network and the training history.
/// </summary>
/// <remarks>
/// Dispose it (or the <c>TransformerChain</c> that holds it) when done: its OnnxTransformer reads
/// the ONNX model from a file in the temp folder, deleted on Dispose, and the TorchSharp network
/// holds native memory.
/// </remarks>
public sealed class NeuralNetworkTransformer : ITransformer, IDisposable, ISavedAsChain
{
    private readonly OnnxScoring _onnxScoring;
    private readonly ITransformer _scoring;
    private readonly byte[] _onnxModel;
    private readonly Action<DataViewSchema>? _inputCheck;

    internal NeuralNetworkTransformer(OnnxScoring scoring, byte[] onnxModel, torch.nn.Module<torch.Tensor, torch.Tensor> network, NetworkDescription description, TrainingHistory history, string featureColumn,
        Action<DataViewSchema>? inputCheck = null)
    {
        _inputCheck = inputCheck;
        _onnxScoring = scoring;
        _scoring = scoring.Transformer;
        _onnxModel = onnxModel;
        Network = network;
        Description = description;
        History = history;
        FeatureColumnName = featureColumn;
        FeatureSize = description.InputShape.Aggregate(1L, (a, b) => a * b);
    }

    /// <summary>The input column the network reads (the trainer's features column).</summary>
    internal string FeatureColumnName { get; }

    /// <summary>The number of Single values per row the features column must hold.</summary>
    internal long FeatureSize { get; }

    /// <summary>The trained TorchSharp network (in eval mode), for inspection or further fine-tuning.</summary>
    public torch.nn.Module<torch.Tensor, torch.Tensor> Network { get; }

    /// <summary>The network's layer description; <see cref="Networks.PretrainedNetwork"/> rebuilds trainable copies from it.</summary>
    public NetworkDescription Description { get; }

    /// <summary>Per-epoch metrics of the training run.</summary>
    public TrainingHistory History { get; }

    /// <summary>The ML.NET transformer that scores: an OnnxTransformer chain. This is what gets saved.</summary>
    public ITransformer ScoringTransformer => _scoring;

    /// <inheritdoc />
    public bool IsRowToRowMapper => _scoring.IsRowToRowMapper;

    /// <summary>The ONNX model (opset 17) that scores, as bytes.</summary>
    public ReadOnlySpan<byte> OnnxModel => _onnxModel;

    /// <summary>Writes the ONNX model to a file, for use outside ML.NET (ONNX Runtime, other languages).</summary>
    public void SaveOnnx(string path) => File.WriteAllBytes(path, _onnxModel);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The features column is missing or not a vector of the trained number of Single values.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scoring.GetOutputSchema(CheckInput(inputSchema));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The features column is missing or not a vector of the trained number of Single values.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scoring.GetRowToRowMapper(CheckInput(inputSchema));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The features column is missing or not a vector of the trained number of Single values.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema);
        return _scoring.Transform(input);
    }

    /// <summary>
    /// The features column must be what the network was trained on. ML.NET's OnnxTransformer accepts a
    /// variable-size vector and then fails row by row with "Index was out of range"; this says why at once.
    /// </summary>
    private DataViewSchema CheckInput(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (_inputCheck is not null)
        {
            _inputCheck(schema);
            return schema;
        }

        var column = SchemaChecks.Find(schema, FeatureColumnName, "features");
        if (column.Type is VectorDataViewType { IsKnownSize: true } vector && vector.ItemType == NumberDataViewType.Single && vector.Size == FeatureSize)
        {
            return schema;
        }

        string advice = column.Type is VectorDataViewType { IsKnownSize: false }
            ? $"A variable-size vector cannot be scored: declare its size, e.g. [VectorType({FeatureSize})] on the input class's property or a SchemaDefinition whose column type is a vector of {FeatureSize}."
            : "Build the column as for training (the same Concatenate / ExtractPixels steps).";
        throw new ArgumentException(
            $"The features column '{FeatureColumnName}' is {column.Type}, but the model was trained on a known-size vector of {FeatureSize} Single values. {advice}",
            nameof(schema));
    }

    /// <summary>Saves the scoring chain: the model zip then holds only ML.NET's own transformers.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _scoring.Save(ctx);

    ITransformer ISavedAsChain.SavedTransformer => _scoring;

    /// <summary>Frees the ONNX Runtime session, deletes the temp copy of the ONNX model, and frees the TorchSharp network.</summary>
    public void Dispose()
    {
        _onnxScoring.Dispose();
        Network.Dispose();
    }
}
