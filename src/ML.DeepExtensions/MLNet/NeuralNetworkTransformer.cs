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
public sealed class NeuralNetworkTransformer : ITransformer
{
    private readonly ITransformer _scoring;
    private readonly byte[] _onnxModel;

    internal NeuralNetworkTransformer(ITransformer scoring, byte[] onnxModel, torch.nn.Module<torch.Tensor, torch.Tensor> network, NetworkDescription description, TrainingHistory history)
    {
        _scoring = scoring;
        _onnxModel = onnxModel;
        Network = network;
        Description = description;
        History = history;
    }

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
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scoring.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scoring.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _scoring.Transform(input);

    /// <summary>Saves the scoring chain: the model zip then holds only ML.NET's own transformers.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _scoring.Save(ctx);
}
