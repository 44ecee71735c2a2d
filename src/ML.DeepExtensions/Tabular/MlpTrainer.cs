using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tabular;

/// <summary>
/// The shared part of the MLP trainers: reads the data through the batch bridge, fits feature
/// standardisation, builds and trains the network with the training engine, exports it to ONNX and
/// wraps it in ML.NET's OnnxTransformer. Subclasses only choose the prediction head.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class MlpTrainer<TOptions> : IEstimator<NeuralNetworkTransformer>
    where TOptions : MlpOptions
{
    private readonly IHostEnvironment _environment;

    private protected MlpTrainer(IHostEnvironment environment, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        Options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public TOptions Options { get; }

    private protected abstract string ComponentName { get; }

    private protected abstract IPredictionHead CreateHead();

    /// <summary>Trains on <paramref name="input"/> (with <see cref="TrainingOptions.ValidationFraction"/> held out if set).</summary>
    public NeuralNetworkTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, validating each epoch on <paramref name="validationData"/>.</summary>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type, the data is empty, or the label has one class.</exception>
    /// <exception cref="DataValidationException">A value is missing (NaN); the message names the column and row.</exception>
    public NeuralNetworkTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var head = CreateHead();
        int width = SchemaChecks.FeatureWidth(trainData.Schema, Options.FeatureColumnName);
        head.ValidateLabel(trainData.Schema, Options.LabelColumnName);
        if (validationData is not null)
        {
            if (Options.ValidationFraction > 0)
            {
                throw new ArgumentException("Pass either validation data or a ValidationFraction, not both.", nameof(validationData));
            }

            int validationWidth = SchemaChecks.FeatureWidth(validationData.Schema, Options.FeatureColumnName);
            if (validationWidth != width)
            {
                throw new ArgumentException(
                    $"The validation features column '{Options.FeatureColumnName}' has {validationWidth} values per row; the training data has {width}.", nameof(validationData));
            }

            head.ValidateLabel(validationData.Schema, Options.LabelColumnName);
        }

        var host = _environment.Register(ComponentName);
        int seed = Options.Seed ?? host.Rand.Next();
        using var channel = host.Start(ComponentName);
        var data = TabularData.Open(trainData, validationData, Options, head, seed);
        channel.Info(MessageSensitivity.None, $"{ComponentName}: {head.TaskName} on {data.TrainingRows} rows x {width} features"
            + (data.Validation is null ? "" : $", {data.ValidationRows} validation rows") + $", seed {seed}.");

        var device = Devices.Resolve(Options.Device);
        TrainingEngine.SeedForInitialisation(seed);
        var network = BuildNetwork(width, head, data.Statistics);
        network.to(device);
        var step = new SupervisedTrainStep(network, head.CreateLoss(), Options.Optimizer.Create(network.parameters()),
            head.CreateMetrics, device, Options.GradientClipNorm);
        var history = new TrainingEngine(Options, [new ChannelLogger(channel, ComponentName)])
            .Fit(step, data.Train, data.Validation, seed, device);

        network.eval();
        string rawColumn = $"{ComponentName}.RawOutput";
        byte[] onnx = ExportOnnx(network, head.OutputWidth, width, rawColumn);
        var scoring = OnnxScoringChain.Build(onnx, Options.FeatureColumnName, rawColumn, trainData,
            rawScored => head.CreateScorer(_environment, rawScored, rawColumn, Options.LabelColumnName));
        return new NeuralNetworkTransformer(scoring, onnx, network, history);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var features = SchemaChecks.Find(inputSchema, Options.FeatureColumnName, "features");
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentException(
                $"The features column '{Options.FeatureColumnName}' must be a known-size vector of Single.", nameof(inputSchema));
        }

        var label = SchemaChecks.Find(inputSchema, Options.LabelColumnName, "label");
        return SchemaChecks.Append(inputSchema, CreateHead().OutputColumns(label));
    }

    private protected virtual nn.Module<Tensor, Tensor> BuildNetwork(int width, IPredictionHead head, DataStatistics statistics)
    {
        var standardization = Options.StandardizeFeatures
            ? new Standardization(statistics[BatchRoles.Features].GetMeanAsSingle(), statistics[BatchRoles.Features].GetStandardDeviationAsSingle())
            : null;
        return MlpNetwork.Build(Options, width, head.OutputWidth, standardization);
    }

    private byte[] ExportOnnx(nn.Module network, int outputWidth, int width, string rawColumn)
    {
        // Per-row graph: ML.NET's OnnxTransformer feeds one row at a time. Input [F] is reshaped to a
        // batch of one for the batch-first layers, and the output back to a vector [K] (ML.NET 5's
        // OnnxTransformer cannot deliver rank-0 outputs; ML.NET's scorers make the scalar columns).
        var graph = new OnnxGraphBuilder(ComponentName);
        graph.AddInput(Options.FeatureColumnName, OnnxElementType.Float, width);
        var batch = graph.AddNode("Reshape", [Options.FeatureColumnName, graph.AddInitializer("batch_of_one", [1L, width], [2])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, [1, width]));
        string output = new OnnxModuleExporter().Export(graph, network, batch);
        var raw = graph.AddNode("Reshape", [output, graph.AddInitializer("output_shape", [(long)outputWidth], [1])], nameHint: "raw_output");
        graph.AddOutput(raw, rawColumn, OnnxElementType.Float, outputWidth);
        graph.AddMetadata("ml_deepextensions.component", ComponentName);
        return graph.ToBytes();
    }
}
