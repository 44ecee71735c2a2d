using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// The shared path of the trainers that learn a label from a features column: schema checks, one
/// statistics pass through the batch bridge, the network, the training engine, the ONNX export and
/// the ML.NET scoring chain. A family (MLP, CNN) supplies the input shape, the network and,
/// optionally, a training-time input augmentation; a task supplies the prediction head.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class SupervisedNetworkTrainer<TOptions> : IEstimator<NeuralNetworkTransformer>
    where TOptions : SupervisedNetworkOptions
{
    private readonly IHostEnvironment _environment;

    private protected SupervisedNetworkTrainer(IHostEnvironment environment, TOptions options)
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

    /// <summary>The per-row shape of the features (e.g. [F] or [C, H, W]); throws naming the column when it does not fit.</summary>
    private protected abstract long[] InputShape(DataViewSchema schema);

    /// <summary>Checks the architecture against the input shape before any data is read.</summary>
    private protected virtual void ValidateArchitecture(long[] inputShape, int outputWidth)
    {
    }

    private protected abstract nn.Module<Tensor, Tensor> BuildNetwork(long[] inputShape, IPredictionHead head, DataStatistics statistics);

    /// <summary>A random transformation of each training batch's features (augmentation), or null.</summary>
    private protected virtual BatchAugmentation? CreateAugmentation(int seed) => null;

    /// <summary>Trains on <paramref name="input"/> (with <see cref="TrainingOptions.ValidationFraction"/> held out if set).</summary>
    public NeuralNetworkTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, validating each epoch on <paramref name="validationData"/>.</summary>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type, the architecture does not fit the input, the data is empty, or the label has one class.</exception>
    /// <exception cref="DataValidationException">A value is missing (NaN); the message names the column and row.</exception>
    public NeuralNetworkTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var head = CreateHead();
        long[] inputShape = InputShape(trainData.Schema);
        head.ValidateLabel(trainData.Schema, Options.LabelColumnName);
        if (validationData is not null)
        {
            if (Options.ValidationFraction > 0)
            {
                throw new ArgumentException("Pass either validation data or a ValidationFraction, not both.", nameof(validationData));
            }

            long[] validationShape = ValidationChecks.OnValidationData(validationData, v => InputShape(v.Schema));
            if (!validationShape.SequenceEqual(inputShape))
            {
                throw new ArgumentException(
                    $"The validation features column '{Options.FeatureColumnName}' has shape [{string.Join(", ", validationShape)}] per row; the training data has [{string.Join(", ", inputShape)}].",
                    nameof(validationData));
            }

            validationData = ValidationChecks.OnValidationData(validationData, v => head.AlignValidationLabel(v, Options.LabelColumnName));
        }

        ValidateArchitecture(inputShape, head.OutputWidth);
        var host = _environment.Register(ComponentName);
        // A resumed run must continue with the seed that wrote the checkpoint.
        int seed = Options.Seed
            ?? (Options.ResumeFromCheckpoint is { } checkpoint ? CheckpointFile.ReadSeed(checkpoint) : host.Rand.Next());
        using var channel = host.Start(ComponentName);
        var features = BatchColumn.Features(Options.FeatureColumnName, inputShape.Length > 1 ? inputShape : null);
        var data = SupervisedData.Open(trainData, validationData, Options, features, head, seed);
        channel.Info(MessageSensitivity.None, $"{ComponentName}: {head.TaskName} on {data.TrainingRows} rows x {string.Join("x", inputShape)} features"
            + (data.Validation is null ? "" : $", {data.ValidationRows} validation rows") + $", seed {seed}.");

        var device = Devices.Resolve(Options.Device);
        TrainingEngine.SeedForInitialisation(seed);
        var network = BuildNetwork(inputShape, head, data.Statistics);
        network.to(device);
        using var augmentation = CreateAugmentation(seed);
        var step = new SupervisedTrainStep(network, head.CreateLoss(), Options.Optimizer.Create(network.parameters()),
            head.CreateMetrics, device, Options.GradientClipNorm, augmentation is null ? null : augmentation.Apply);
        ITrainingCallback[] builtIn = augmentation is null
            ? [new ChannelLogger(channel, ComponentName)]
            : [new ChannelLogger(channel, ComponentName), augmentation];
        TrainingHistory history;
        try
        {
            history = new TrainingEngine(Options, builtIn).Fit(step, data.Train, data.Validation, seed, device);
        }
        finally
        {
            // The source reads ahead into the next epoch while one drains; after the last there is none.
            data.Train.DiscardPreparedEpoch();
        }

        network.eval();
        string rawColumn = $"{ComponentName}.RawOutput";
        byte[] onnx = ExportOnnx(network, head.OutputWidth, inputShape, rawColumn);
        var scoring = OnnxScoringChain.Build(onnx, Options.FeatureColumnName, rawColumn, trainData,
            rawScored => head.CreateScorer(_environment, rawScored, rawColumn, Options.LabelColumnName));
        return new NeuralNetworkTransformer(scoring, onnx, network, history, Options.FeatureColumnName, inputShape.Aggregate(1L, (a, b) => a * b));
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

    private byte[] ExportOnnx(nn.Module network, int outputWidth, long[] inputShape, string rawColumn)
    {
        // Per-row graph: ML.NET's OnnxTransformer feeds one row at a time as a flat vector. It is
        // reshaped to a batch of one for the batch-first layers, and the output back to a vector [K]
        // (ML.NET 5's OnnxTransformer cannot deliver rank-0 outputs; ML.NET's scorers make the scalar columns).
        long size = inputShape.Aggregate(1L, (a, b) => a * b);
        var graph = new OnnxGraphBuilder(ComponentName);
        graph.AddInput(Options.FeatureColumnName, OnnxElementType.Float, size);
        long[] batchShape = [1, .. inputShape];
        var batch = graph.AddNode("Reshape", [Options.FeatureColumnName, graph.AddInitializer("batch_of_one", batchShape, [batchShape.Length])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, batchShape.Select(d => (OnnxDim)d)));
        string output = new OnnxModuleExporter().Export(graph, network, batch);
        var raw = graph.AddNode("Reshape", [output, graph.AddInitializer("output_shape", [(long)outputWidth], [1])], nameHint: "raw_output");
        graph.AddOutput(raw, rawColumn, OnnxElementType.Float, outputWidth);
        graph.AddMetadata("ml_deepextensions.component", ComponentName);
        return graph.ToBytes();
    }
}
