using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Sequence;

/// <summary>
/// Trains a character-level language model on a text column: a character vocabulary with an unknown
/// character, an embedding, a stack of LSTM, GRU or simple RNN layers and a softmax over the vocabulary,
/// by truncated backpropagation through time.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Machine learning task</term><description>Language modelling (next-character prediction) and text generation</description></item>
/// <item><term>Training input</term><description>A scalar Text column, one document per row; each is modelled from its start to its end (the end of text is predicted too).</description></item>
/// <item><term>Model as a transformer</term><description>Context (Text: the characters so far; by default the text column itself) → Score: Vector&lt;Single, V&gt; next-character probabilities, PredictedLabel: key over the vocabulary; so <c>MulticlassClassification.Evaluate</c>'s log-loss / ln 2 is bits per character.</description></item>
/// <item><term>Generation</term><description><see cref="CharacterLanguageModel.Generate"/>: prompt, length, temperature, top-k, seed (reproducible).</description></item>
/// <item><term>Exportable to ONNX</term><description>Yes: the per-step network (character id and state in, logits and state out) and the context network.</description></item>
/// <item><term>Saved model needs this library?</term><description>No: the zip holds ML.NET's own transformers; the step graph runs on ONNX Runtime alone.</description></item>
/// </list>
/// Training streams the texts through a cursor each epoch (a bounded shuffle buffer, never the whole
/// data set in memory): a batch is <see cref="CharacterLanguageModelOptions.BatchSize"/> texts side by side,
/// longest first; each window of <see cref="CharacterLanguageModelOptions.SequenceLength"/> characters is one
/// optimizer step, and the recurrent state carries from window to window within a text (gradients stop at
/// the window edge). Every text starts from the zero state, as in evaluation and generation.
/// Create it with <c>mlContext.Transforms.Text.CharacterLanguageModel(...)</c>; see docs/sequence-models.md.
/// </remarks>
public sealed class CharacterLanguageModelTrainer : IEstimator<CharacterLanguageModel>
{
    private const string LossName = TrainingLogs.Loss;
    private const string BitsName = "bits_per_character";
    private readonly IHostEnvironment _environment;

    internal CharacterLanguageModelTrainer(IHostEnvironment environment, CharacterLanguageModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _environment = environment;
        Options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public CharacterLanguageModelOptions Options { get; }

    /// <summary>Trains on the texts of <see cref="CharacterLanguageModelOptions.TextColumnName"/>.</summary>
    /// <exception cref="ArgumentException">The column is missing or not Text, there are no rows, or no character is frequent enough for the vocabulary.</exception>
    public CharacterLanguageModel Fit(IDataView input) => Fit(input, null);

    /// <summary>
    /// Trains on <paramref name="input"/> and reports <c>val_loss</c> (nats per character) and
    /// <c>val_bits_per_character</c> on <paramref name="validationData"/> after every epoch (early stopping can watch them).
    /// </summary>
    public CharacterLanguageModel Fit(IDataView input, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (vocabulary, _, _) = CharacterVocabulary.FromText(input, Options.TextColumnName, Options.MinCharacterCount);
        if (validationData is not null)
        {
            _ = CharacterVocabulary.ReadTexts(validationData, Options.TextColumnName);
        }

        var host = _environment.Register("CharacterLanguageModel");
        var run = new TrainingRun(Options, defaultSeed: host.Rand.Next());
        TrainingRun.SeedForInitialisation(run.Seed);
        var network = run.AddModule("model", new CharacterNetwork(Options.Cell, vocabulary.Count, Options.EmbeddingDimensions, Options.HiddenUnits, Options.Layers, Options.Dropout));
        var optimizer = run.CreateOptimizer("optimizer", network, Options.Optimizer, Options.LearningRateSchedule);
        run.RecordSetting("data.BatchSize", Options.BatchSize.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("data.SequenceLength", Options.SequenceLength.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("data.ShuffleBufferSize", Options.ShuffleBufferSize.ToString(CultureInfo.InvariantCulture));
        run.RecordSetting("vocabulary", vocabulary.ToJson());
        run.RecordSetting("network", string.Create(CultureInfo.InvariantCulture,
            $"{Options.Cell} {Options.Layers}x{Options.HiddenUnits}, embedding {Options.EmbeddingDimensions}, dropout {Options.Dropout}"));

        run.Start();
        try
        {
            while (!run.ShouldStop)
            {
                run.BeginEpoch();
                var logs = TrainEpoch(run, network, optimizer, vocabulary, input);
                if (validationData is not null)
                {
                    run.SetTraining(false);
                    var (nats, count) = Score(network, vocabulary, validationData, Options.TextColumnName, Options.BatchSize, run.Device);
                    logs[TrainingLogs.ValidationPrefix + LossName] = nats / Math.Max(1, count);
                    logs[TrainingLogs.ValidationPrefix + BitsName] = nats / Math.Max(1, count) / Math.Log(2);
                }

                run.EndEpoch(logs);
            }
        }
        finally
        {
            run.SetTraining(false);
        }

        run.Finish();
        return new CharacterLanguageModel(network, vocabulary, Options, run.History, run.Device);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.Find(inputSchema, Options.ContextColumn, "context");
        return SchemaChecks.Append(inputSchema,
        [
            SchemaShapes.Vector(ColumnNames.Score, NumberDataViewType.Single),
            SchemaShapes.Key(ColumnNames.PredictedLabel, withTextKeyValues: true),
        ]);
    }

    private TrainingLogs TrainEpoch(TrainingRun run, CharacterNetwork network, optim.Optimizer optimizer, CharacterVocabulary vocabulary, IDataView input)
    {
        double nats = 0;
        long count = 0;
        var texts = Shuffled(CharacterVocabulary.ReadTexts(input, Options.TextColumnName).Select(t => vocabulary.Steps(t.Span)), TrainingRun.DeriveSeed(run.Seed, run.Epoch));
        foreach (var batch in texts.Chunk(Options.BatchSize))
        {
            using var batchScope = torch.NewDisposeScope();
            RecurrentState? state = null;
            foreach (var window in Windows(batch, Options.SequenceLength))
            {
                if (StepBudgetSpent(run))
                {
                    break;
                }

                using var scope = torch.NewDisposeScope();
                run.BeginStep();
                optimizer.zero_grad();
                var (logits, next) = network.Forward(window.Inputs.to(run.Device), window.Lengths, state?.Detached(window.Rows));
                var loss = nn.functional.cross_entropy(logits, window.Targets.to(run.Device));
                loss.backward();
                if (Options.GradientClipNorm is double maxNorm)
                {
                    nn.utils.clip_grad_norm_(network.parameters(), maxNorm);
                }

                optimizer.step();
                state = next.Detached(window.Rows).MoveToOuterDisposeScope();
                double value = loss.item<float>();
                nats += value * window.Count;
                count += window.Count;
                run.EndStep(new TrainingLogs { [LossName] = value });
            }

            if (StepBudgetSpent(run))
            {
                break;
            }
        }

        return new TrainingLogs { [LossName] = nats / Math.Max(1, count), [BitsName] = nats / Math.Max(1, count) / Math.Log(2) };
    }

    private static bool StepBudgetSpent(TrainingRun run) => run.StopTraining || (run.Options.MaxSteps is long max && run.Step >= max);

    /// <summary>Total nats and predicted symbols (characters plus one end of text per text) of the texts, from the zero state per text.</summary>
    internal static (double Nats, long Count) Score(CharacterNetwork network, CharacterVocabulary vocabulary, IDataView data, string column, int batchSize, Device device)
    {
        using var noGrad = torch.no_grad();
        double nats = 0;
        long count = 0;
        foreach (var batch in CharacterVocabulary.ReadTexts(data, column).Select(t => vocabulary.Steps(t.Span)).Chunk(batchSize))
        {
            using var batchScope = torch.NewDisposeScope();
            RecurrentState? state = null;
            foreach (var window in Windows(batch, 512))
            {
                using var scope = torch.NewDisposeScope();
                var (logits, next) = network.Forward(window.Inputs.to(device), window.Lengths, state?.Detached(window.Rows));
                nats += nn.functional.cross_entropy(logits, window.Targets.to(device), reduction: nn.Reduction.Sum).to(ScalarType.Float64).item<double>();
                count += window.Count;
                state = next.Detached(window.Rows).MoveToOuterDisposeScope();
            }
        }

        return (nats, count);
    }

    /// <summary>
    /// The windows of a batch of texts (model steps), longest text first: window w holds positions
    /// [wT, (w+1)T) of every text still running, so the rows of a window are a prefix of the previous
    /// window's rows and each row's state carries over.
    /// </summary>
    internal static IEnumerable<Window> Windows(ushort[][] batch, int length)
    {
        var texts = batch.OrderByDescending(t => t.Length).ToArray();
        int longest = texts[0].Length - 1;
        for (int start = 0; start < longest; start += length)
        {
            int rows = texts.Count(t => t.Length - 1 > start);
            int width = Math.Min(length, longest - start);
            var inputs = new long[rows * width];
            var targets = new long[rows * width];
            var lengths = new long[rows];
            for (int r = 0; r < rows; r++)
            {
                var steps = texts[r];
                int valid = Math.Min(width, steps.Length - 1 - start);
                lengths[r] = valid;
                for (int t = 0; t < valid; t++)
                {
                    inputs[(r * width) + t] = steps[start + t];
                    targets[(r * width) + t] = steps[start + t + 1];
                }
            }

            var lengthTensor = torch.tensor(lengths);
            yield return new Window(
                torch.tensor(inputs, [rows, width]),
                CharacterNetwork.Packed(torch.tensor(targets, [rows, width]), lengthTensor),
                lengthTensor,
                rows,
                lengths.Sum());
        }
    }

    /// <summary>A seeded streaming shuffle (SplitMix64, so it does not depend on the .NET version) over at most <see cref="CharacterLanguageModelOptions.ShuffleBufferSize"/> texts.</summary>
    private IEnumerable<ushort[]> Shuffled(IEnumerable<ushort[]> texts, long seed)
    {
        int capacity = Options.ShuffleBufferSize;
        if (capacity == 0)
        {
            foreach (var text in texts)
            {
                yield return text;
            }

            yield break;
        }

        var random = new SplitMix64((ulong)seed);
        var buffer = new List<ushort[]>(Math.Min(capacity, 65536));
        foreach (var text in texts)
        {
            if (buffer.Count < capacity)
            {
                buffer.Add(text);
                continue;
            }

            int index = random.NextInt32(capacity);
            yield return buffer[index];
            buffer[index] = text;
        }

        while (buffer.Count > 0)
        {
            int index = random.NextInt32(buffer.Count);
            yield return buffer[index];
            buffer[index] = buffer[^1];
            buffer.RemoveAt(buffer.Count - 1);
        }
    }

    /// <summary>One window: inputs [rows, width] (padding after each row's length), targets in packed order, lengths (non-increasing).</summary>
    internal sealed record Window(Tensor Inputs, Tensor Targets, Tensor Lengths, long Rows, long Count);
}
