using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Text;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Supervised;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// The text classifier family: token ids of a key vector column (or of a raw text column the trainer
/// tokenizes with ML.NET's own transforms) through an embedding and sequence layers.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class TextClassifierTrainer<TOptions> : SupervisedNetworkTrainer<TOptions>
    where TOptions : TextClassifierOptions
{
    private long _vocabulary;

    private protected TextClassifierTrainer(IHostEnvironment environment, TOptions options)
        : base(environment, options)
    {
    }

    private protected override (IDataView Train, IDataView? Validation, ITransformer? Preprocessing) Preprocess(IDataView trainData, IDataView? validationData)
    {
        TransformerChain<Microsoft.ML.Transforms.ColumnSelectingTransformer>? preprocessing = null;
        if (Options.TextColumnName is { } text)
        {
            CheckTextColumn(trainData.Schema, text);
            if (validationData is not null)
            {
                CheckTextColumn(validationData.Schema, text);
            }

            preprocessing = TextEstimator().Fit(trainData);
            trainData = preprocessing.Transform(trainData);
            validationData = validationData is null ? null : preprocessing.Transform(validationData);
        }

        _vocabulary = (long)TokenKey(trainData.Schema).Count + 2;
        return (trainData, validationData, preprocessing);
    }

    private protected override SchemaShape PreprocessShape(SchemaShape inputSchema)
    {
        if (Options.TextColumnName is { } text)
        {
            var column = SchemaChecks.Find(inputSchema, text, "text");
            if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            {
                throw new ArgumentException($"The text column '{text}' must be a scalar Text column.", nameof(inputSchema));
            }

            return TextEstimator().GetOutputSchema(inputSchema);
        }

        return inputSchema;
    }

    private protected override long[] InputShape(DataViewSchema schema)
    {
        TokenKey(schema);
        return [Options.MaxLength];
    }

    private protected override void ValidateArchitecture(long[] inputShape, int outputWidth) =>
        NetworkBuilder.InferShapes(Architecture(), inputShape);

    private protected override void ValidatePretrained(NetworkDescription fineTuned)
    {
        if (fineTuned.Layers.Count == 0 || fineTuned.Layers[0] is not EmbeddingLayer embedding)
        {
            throw new ArgumentException(
                $"The pretrained network starts with {(fineTuned.Layers.Count == 0 ? "no layer" : fineTuned.Layers[0].Describe())}, but a text classifier needs one that starts with Layer.Embedding "
                + "(a text classifier's network): token ids cannot feed other layers.", nameof(fineTuned));
        }

        if (embedding.Vocabulary < _vocabulary)
        {
            throw new ArgumentException(
                $"The pretrained network's embedding holds {embedding.Vocabulary.ToString(CultureInfo.InvariantCulture)} rows, but the token column '{Options.FeatureColumnName}' needs "
                + $"{_vocabulary.ToString(CultureInfo.InvariantCulture)} (its key count + padding + unknown). Fine-tune on tokens mapped with the vocabulary the network was trained with "
                + "(the same fitted MapValueToKey, with TextColumnName unset).", nameof(fineTuned));
        }
    }

    private protected override nn.Module<Tensor, Tensor> BuildNetwork(long[] inputShape, IPredictionHead head, DataStatistics statistics) =>
        NetworkBuilder.Build(Architecture(), inputShape, head.OutputWidth);

    private protected override NetworkDescription Describe(long[] inputShape, int outputWidth) => new()
    {
        InputShape = inputShape,
        Layers = Architecture(),
        Outputs = outputWidth,
    };

    private protected override BatchColumn FeatureBinding(long[] inputShape) =>
        BatchColumn.Tokens(Options.FeatureColumnName, Options.MaxLength, Options.Truncation);

    private protected override OnnxInput GraphInput => OnnxInput.KeyValues(Options.FeatureColumnName);

    /// <summary>
    /// The row's key values [1, tokens] (UInt32, any length, also 0) → ids (key + 1) truncated to
    /// MaxLength as in training, then one padding id appended so that an empty text still has a step.
    /// </summary>
    private protected override string AddGraphInput(OnnxGraphBuilder graph, long[] inputShape)
    {
        string input = GraphInput.GraphInput;
        graph.AddInput(input, OnnxElementType.UInt32, 1, "tokens");
        var keys = graph.AddNode("Cast", [input], [OnnxAttribute.Int("to", (long)OnnxElementType.Int64)], "keys");
        var ids = graph.AddNode("Add", [keys, graph.AddInitializer("key_to_id", [1L], [])], nameHint: "ids");
        long max = Options.MaxLength;
        long[] starts = Options.Truncation == SequenceTruncation.KeepEnd ? [-max] : [0];
        long[] ends = Options.Truncation == SequenceTruncation.KeepEnd ? [long.MaxValue] : [max];
        var kept = graph.AddNode("Slice", [ids, graph.AddInitializer("slice_starts", starts, [1]), graph.AddInitializer("slice_ends", ends, [1]), graph.AddInitializer("slice_axes", [1L], [1])],
            nameHint: "kept_ids");
        return graph.AddNode("Concat", [kept, graph.AddInitializer("padding_step", [0L], [1, 1])], [OnnxAttribute.Int("axis", 1)], "token_batch");
    }

    private protected override void CheckFeatureShape(SchemaShape.Column features)
    {
        if (Options.TextColumnName is null && (features.Kind == SchemaShape.Column.VectorKind.Scalar || !features.IsKey))
        {
            throw new ArgumentException(
                $"The token column '{Options.FeatureColumnName}' must be a vector of keys (TokenizeIntoWords → MapValueToKey), or set TextColumnName.", nameof(features));
        }
    }

    private protected override Action<DataViewSchema>? ScoringInputCheck(long[] inputShape)
    {
        string? text = Options.TextColumnName;
        string tokens = Options.FeatureColumnName;
        return schema =>
        {
            if (text is not null)
            {
                CheckTextColumn(schema, text);
            }
            else
            {
                TokenKey(schema, tokens);
            }
        };
    }

    private List<NetworkLayer> Architecture()
    {
        var layers = Options.Architecture.ToList();
        if (layers[0] is EmbeddingLayer embedding)
        {
            if (embedding.Vocabulary == 0)
            {
                layers[0] = embedding with { Vocabulary = (int)_vocabulary };
            }
            else if (embedding.Vocabulary < _vocabulary)
            {
                throw new ArgumentException(
                    $"Layer 0, {embedding.Describe()}, holds fewer rows than the token column '{Options.FeatureColumnName}' needs ({_vocabulary.ToString(CultureInfo.InvariantCulture)}: its key count + padding + unknown). "
                    + "Leave its vocabulary unset to size it from the column.", nameof(Options));
            }
        }

        return layers;
    }

    private KeyDataViewType TokenKey(DataViewSchema schema) => TokenKey(schema, Options.FeatureColumnName);

    private static KeyDataViewType TokenKey(DataViewSchema schema, string name)
    {
        var column = SchemaChecks.Find(schema, name, "token");
        if (column.Type is VectorDataViewType { ItemType: KeyDataViewType key })
        {
            if (key.Count > int.MaxValue - 2)
            {
                throw new ArgumentException($"The token column '{name}' has {key.Count} keys; an embedding holds at most {int.MaxValue - 2}.", nameof(schema));
            }

            return key;
        }

        throw new ArgumentException(
            $"The token column '{name}' is {column.Type}, but the text classifier needs a vector of keys. Build it with "
            + $"mlContext.Transforms.Text.TokenizeIntoWords(\"{name}\", \"Text\") and mlContext.Transforms.Conversion.MapValueToKey(\"{name}\"), "
            + "or set TextColumnName so the trainer does it.", nameof(schema));
    }

    private static void CheckTextColumn(DataViewSchema schema, string text)
    {
        var column = SchemaChecks.Find(schema, text, "text");
        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentException($"The text column '{text}' is {column.Type}, but it must be a scalar Text (string) column.", nameof(schema));
        }
    }

    private EstimatorChain<Microsoft.ML.Transforms.ColumnSelectingTransformer> TextEstimator()
    {
        var context = new MLContext(seed: 0);
        string normalized = $"{Options.FeatureColumnName}.normalized";
        return context.Transforms.Text.NormalizeText(normalized, Options.TextColumnName, TextNormalizingEstimator.CaseMode.Lower, keepDiacritics: true, keepPunctuations: false, keepNumbers: true)
            .Append(context.Transforms.Text.TokenizeIntoWords(Options.FeatureColumnName, normalized, [' ', '\t', '\n', '\r']))
            .Append(context.Transforms.Conversion.MapValueToKey(Options.FeatureColumnName, maximumNumberOfKeys: Options.MaxVocabulary))
            .Append(context.Transforms.DropColumns(normalized));
    }
}

/// <summary>
/// A recurrent (or convolutional) network for multiclass text classification, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Multiclass classification of text</description></item>
/// <item><term>Input columns</term><description>Label: key type. Either a raw Text column (<see cref="TextClassifierOptions.TextColumnName"/>; the trainer adds ML.NET's tokenization and vocabulary to the model) or a token key vector (TokenizeIntoWords → MapValueToKey), any length.</description></item>
/// <item><term>Output columns</term><description>Score: Vector&lt;Single, K&gt; class probabilities. PredictedLabel: key with the label's class names.</description></item>
/// <item><term>Unknown and empty text</term><description>Tokens outside the vocabulary (ML.NET's missing key 0) are the unknown token; an empty text is one padding step.</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes: LSTM/GRU/RNN nodes with sequence_lens.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.MulticlassClassification.Trainers.TextClassifier(...)</c>; see docs/sequence-models.md.
/// </remarks>
public sealed class TextMulticlassTrainer : TextClassifierTrainer<TextMulticlassOptions>
{
    internal TextMulticlassTrainer(IHostEnvironment environment, TextMulticlassOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "TextMulticlass";

    private protected override IPredictionHead CreateHead() => new MulticlassHead(Options.LabelSmoothing);
}

/// <summary>
/// A recurrent (or convolutional) network for binary text classification, trained with TorchSharp.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Binary classification of text</description></item>
/// <item><term>Input columns</term><description>Label: Boolean. A raw Text column or a token key vector, as for <see cref="TextMulticlassTrainer"/>.</description></item>
/// <item><term>Output columns</term><description>Score (the logit), Probability (its sigmoid), PredictedLabel (Boolean).</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes.</description></item>
/// <item><term>Saved model needs this library?</term><description>No.</description></item>
/// </list>
/// Create it with <c>mlContext.BinaryClassification.Trainers.TextClassifier(...)</c>.
/// </remarks>
public sealed class TextBinaryTrainer : TextClassifierTrainer<TextBinaryOptions>
{
    internal TextBinaryTrainer(IHostEnvironment environment, TextBinaryOptions options)
        : base(environment, options)
    {
    }

    private protected override string ComponentName => "TextBinary";

    private protected override IPredictionHead CreateHead() => new BinaryHead(Options.PositiveClassWeight);
}
