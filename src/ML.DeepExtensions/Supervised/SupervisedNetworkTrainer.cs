using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
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

    /// <summary>The description of the network <see cref="BuildNetwork"/> makes: saved with the model so it can be rebuilt for more training.</summary>
    private protected abstract NetworkDescription Describe(long[] inputShape, int outputWidth);

    /// <summary>Whether <see cref="CreateLabelScale"/> makes a layer (a regression's rescaling to label units).</summary>
    private protected virtual bool HasLabelScale => false;

    /// <summary>The fixed <c>label_scale</c> layer fitted on the training labels, or null; used when fine-tuning a pretrained network.</summary>
    private protected virtual nn.Module<Tensor, Tensor>? CreateLabelScale(DataStatistics statistics, IPredictionHead head) => null;

    /// <summary>A random transformation of each training batch's features (augmentation), or null.</summary>
    private protected virtual BatchAugmentation? CreateAugmentation(int seed) => null;

    /// <summary>
    /// Transforms the family fits on the training data before the network (a text classifier's
    /// tokenization and vocabulary); they also start the returned scoring chain. Default: none.
    /// </summary>
    private protected virtual (IDataView Train, IDataView? Validation, ITransformer? Preprocessing) Preprocess(IDataView trainData, IDataView? validationData) =>
        (trainData, validationData, null);

    /// <summary>How the features column becomes the network's input tensor. Default: float32 of the input shape.</summary>
    private protected virtual BatchColumn FeatureBinding(long[] inputShape) =>
        BatchColumn.Features(Options.FeatureColumnName, inputShape.Length > 1 ? inputShape : null);

    /// <summary>The graph input that the features column feeds. Default: a Single vector of the same name.</summary>
    private protected virtual OnnxInput GraphInput => OnnxInput.Column(Options.FeatureColumnName);

    /// <summary>
    /// Declares the per-row graph input and returns the value holding the network's batch of one.
    /// Default: a float vector [F] reshaped to [1, ..inputShape].
    /// </summary>
    private protected virtual string AddGraphInput(OnnxGraphBuilder graph, long[] inputShape)
    {
        long size = inputShape.Aggregate(1L, (a, b) => a * b);
        graph.AddInput(Options.FeatureColumnName, OnnxElementType.Float, size);
        long[] batchShape = [1, .. inputShape];
        var batch = graph.AddNode("Reshape", [Options.FeatureColumnName, graph.AddInitializer("batch_of_one", batchShape, [batchShape.Length])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, batchShape.Select(d => (OnnxDim)d)));
        return batch;
    }

    /// <summary>Checks the features column of an input shape (GetOutputSchema). Default: a known-size vector of Single.</summary>
    private protected virtual void CheckFeatureShape(SchemaShape.Column features)
    {
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentException(
                $"The features column '{Options.FeatureColumnName}' must be a known-size vector of Single.", nameof(features));
        }
    }

    /// <summary>The check a fitted model runs on a schema before scoring; null: the features column as trained (a Single vector).</summary>
    private protected virtual Action<DataViewSchema>? ScoringInputCheck(long[] inputShape) => null;

    /// <summary>Trains on <paramref name="input"/> (with <see cref="Data.DataOptions.ValidationFraction"/> held out if set).</summary>
    public NeuralNetworkTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, validating each epoch on <paramref name="validationData"/>.</summary>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type, the architecture does not fit the input, the data is empty, or the label has one class.</exception>
    /// <exception cref="DataValidationException">A value is missing (NaN); the message names the column and row.</exception>
    public NeuralNetworkTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        (trainData, validationData, var preprocessing) = Preprocess(trainData, validationData);
        var head = CreateHead();
        long[] inputShape = InputShape(trainData.Schema);
        head.ValidateLabel(trainData.Schema, Options.LabelColumnName);
        if (validationData is not null)
        {
            if (Options.Data.ValidationFraction > 0)
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

        // A pretrained start replaces the family's architecture; both are checked before any data is read.
        var pretrained = Options.Pretrained;
        var fineTuned = pretrained is null ? null : FineTunedNetwork.Describe(pretrained, inputShape, head.OutputWidth, HasLabelScale, Options.FeatureColumnName);
        if (fineTuned is null)
        {
            ValidateArchitecture(inputShape, head.OutputWidth);
        }
        else
        {
            ValidatePretrained(fineTuned);
        }

        var host = _environment.Register(ComponentName);
        using var channel = host.Start(ComponentName);
        ITrainingCallback logger = new ChannelLogger(channel, ComponentName);
        var run = new TrainingRun(Options, defaultSeed: host.Rand.Next(), [logger]);
        int seed = run.Seed;
        var features = FeatureBinding(inputShape);
        var data = SupervisedData.Open(trainData, validationData, Options, features, head, seed);
        TrainingHistory history;
        nn.Module<Tensor, Tensor> network;
        NetworkDescription description;
        try
        {
            channel.Info(MessageSensitivity.None, $"{ComponentName}: {head.TaskName} on {data.TrainingRows} rows x {string.Join("x", inputShape)} features"
                + (data.Validation is null ? "" : $", {data.ValidationRows} validation rows") + $", seed {seed}.");

            TrainingRun.SeedForInitialisation(seed);
            description = fineTuned ?? Describe(inputShape, head.OutputWidth);
            network = run.AddModule("model", pretrained is null
                ? BuildNetwork(inputShape, head, data.Statistics)
                : FineTunedNetwork.Build(pretrained, description, CreateLabelScale(data.Statistics, head)), description);
            var optimizer = run.CreateOptimizer("optimizer", network, Options.Optimizer, Options.LearningRateSchedule);
            run.RecordSettings("Data", Options.Data);
            using var batchAugmentation = CreateAugmentation(seed);
            if (batchAugmentation is not null)
            {
                run.AddCallback(batchAugmentation);
            }

            var step = new SupervisedTrainStep(network, head.CreateLoss(), optimizer,
                head.CreateMetrics, run.Device, Options.GradientClipNorm, batchAugmentation is null ? null : batchAugmentation.Apply);
            history = TrainingEngine.Fit(run, step, data.Train, data.Validation);
        }
        finally
        {
            // The source reads ahead (the first epoch from the start, the next while one drains); after the last there is none.
            data.Train.DiscardPreparedEpoch();
        }

        network.eval();
        string rawColumn = $"{ComponentName}.RawOutput";
        byte[] onnx = ExportOnnx(network, description, rawColumn);
        var scoring = OnnxScoringChain.Build(onnx, [GraphInput], [rawColumn], trainData,
            rawScored => head.CreateScorer(_environment, rawScored, rawColumn, Options.LabelColumnName), dropAfterScoring: [rawColumn]);
        if (preprocessing is not null)
        {
            scoring = scoring with { Transformer = new TransformerChain<ITransformer>(preprocessing, scoring.Transformer) };
        }

        return new NeuralNetworkTransformer(scoring, onnx, network, description, history, Options.FeatureColumnName, ScoringInputCheck(inputShape));
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        inputSchema = PreprocessShape(inputSchema);
        CheckFeatureShape(inputSchema);

        var label = SchemaChecks.Find(inputSchema, Options.LabelColumnName, "label");
        return SchemaChecks.Append(inputSchema, CreateHead().OutputColumns(label));
    }

    /// <summary>The schema shape after <see cref="Preprocess"/>'s transforms. Default: unchanged.</summary>
    private protected virtual SchemaShape PreprocessShape(SchemaShape inputSchema) => inputSchema;

    /// <summary>Checks, before any data is read, that a fine-tuned network's layers can take this family's input. Default: nothing beyond the shape checks.</summary>
    private protected virtual void ValidatePretrained(NetworkDescription fineTuned)
    {
    }

    /// <summary>Checks the features column's shape with <see cref="CheckFeatureShape(SchemaShape.Column)"/>.</summary>
    private void CheckFeatureShape(SchemaShape inputSchema) =>
        CheckFeatureShape(SchemaChecks.Find(inputSchema, Options.FeatureColumnName, "features"));

    private byte[] ExportOnnx(nn.Module network, NetworkDescription description, string rawColumn)
    {
        // Per-row graph: ML.NET's OnnxTransformer feeds one row at a time as a flat vector. It is
        // reshaped to a batch of one for the batch-first layers, and the output back to a vector [K]
        // (ML.NET 5's OnnxTransformer cannot deliver rank-0 outputs; ML.NET's scorers make the scalar columns).
        long[] inputShape = [.. description.InputShape];
        var graph = new OnnxGraphBuilder(ComponentName);
        var batch = AddGraphInput(graph, inputShape);
        var exporter = new OnnxModuleExporter();
        foreach (var layer in description.Layers)
        {
            layer.RegisterOnnxConverters(exporter);
        }

        string output = exporter.Export(graph, network, batch);
        var raw = graph.AddNode("Reshape", [output, graph.AddInitializer("output_shape", [(long)description.Outputs], [1])], nameHint: "raw_output");
        graph.AddOutput(raw, rawColumn, OnnxElementType.Float, description.Outputs);
        graph.AddMetadata("ml_deepextensions.component", ComponentName);
        NetworkStateInGraph.Attach(graph, network, description);
        return graph.ToBytes();
    }
}
