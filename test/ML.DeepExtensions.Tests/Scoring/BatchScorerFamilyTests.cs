using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Tests.Generative;
using ML.DeepExtensions.Tests.Reinforcement;
using ML.DeepExtensions.Tests.Sequence;

namespace ML.DeepExtensions.Tests.Scoring;

/// <summary>
/// The batched path against <c>Transform</c> for the saved models of every family beyond the MLP and
/// the image classifier (those are in <see cref="BatchScorerTests"/>): sequence and text classifiers,
/// the forecaster, the GAN's generator and discriminator, and RL policies.
/// </summary>
[TestClass]
public sealed class BatchScorerFamilyTests
{
    private const int Steps = 6;

    public sealed class SequenceRow
    {
        [VectorType(Steps, 2)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    public sealed class Point
    {
        public float Value { get; set; }
    }

    public sealed class WindowRow
    {
        public float[] Window { get; set; } = [];
    }

    [TestMethod]
    public void ASequenceClassifierScoresInBatchesLikeTransform()
    {
        var context = new MLContext(seed: 1);
        var random = new Random(4);
        var rows = Enumerable.Range(0, 61).Select(i => new SequenceRow
        {
            Features = [.. Enumerable.Range(0, Steps * 2).Select(_ => (float)random.NextDouble())],
            Label = (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).ToList();
        var data = context.Transforms.Conversion.MapValueToKey("Label").Fit(context.Data.LoadFromEnumerable(rows)).Transform(context.Data.LoadFromEnumerable(rows));
        var options = new SequenceClassifierOptions { Architecture = [Layer.Lstm(6), Layer.SequencePooling(SequencePoolingMode.Mean)], Epochs = 1, Seed = 1, Data = { BatchSize = 16 } };
        var model = context.MulticlassClassification.Trainers.SequenceClassifier(options).Fit(data);

        AssertBatchedEqualsTransform(context, model, data, scoring: Scoring.Batched);
    }

    [TestMethod]
    public void ATextClassifierFromRawTextScoresLikeTransform()
    {
        var context = new MLContext(seed: 1);
        var rows = TextFixtures.Rows(45);
        var data = context.Transforms.Conversion.MapValueToKey("Label").Fit(TextFixtures.Load(context, rows)).Transform(TextFixtures.Load(context, rows));
        var options = new TextMulticlassOptions { TextColumnName = "Text", Architecture = [Layer.Embedding(4), Layer.Gru(4), Layer.SequencePooling(SequencePoolingMode.Max)], Epochs = 1, Seed = 1 };
        var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(data);

        // Variable-length token rows: left to ML.NET's OnnxTransformer, so the scorer still takes the model.
        AssertBatchedEqualsTransform(context, model, data, scoring: Scoring.RowByRow);
    }

    [TestMethod]
    public void AForecasterScoresWindowsInBatchesLikeTransform()
    {
        var context = new MLContext(seed: 1);
        var series = Enumerable.Range(0, 80).Select(t => new Point { Value = (float)Math.Sin(t / 3.0) }).ToList();
        var options = new RecurrentForecasterOptions { WindowSize = 8, Horizon = 2, Architecture = [Layer.Gru(4, returnSequences: false)], Epochs = 1, Seed = 1 };
        var model = context.Forecasting.ForecastByRecurrentNetwork(options).Fit(context.Data.LoadFromEnumerable(series));
        var definition = SchemaDefinition.Create(typeof(WindowRow));
        definition[nameof(WindowRow.Window)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 8);
        var windows = context.Data.LoadFromEnumerable(
            Enumerable.Range(0, 30).Select(start => new WindowRow { Window = [.. series.Skip(start).Take(8).Select(p => p.Value)] }), definition);

        AssertBatchedEqualsTransform(context, model, windows, scoring: Scoring.Scanned);
        AssertInMemoryBatchedEqualsTransform(context, model, windows);
    }

    [TestMethod]
    public void TheGansGeneratorAndDiscriminatorScoreInBatchesLikeTransform()
    {
        var context = new MLContext(seed: 1);
        var data = GanFixtures.Keyed(context, 40);
        using var model = context.Transforms.ImageGan(GanFixtures.Options(epochs: 1)).Fit(data);
        var noise = model.Sample(21, null, seed: 3);

        AssertBatchedEqualsTransform(context, model.Generator, noise, model.GeneratorInputSchema, Scoring.Scanned);
        AssertBatchedEqualsTransform(context, model, data, scoring: Scoring.Batched);
        AssertInMemoryBatchedEqualsTransform(context, model, data);
    }

    [TestMethod]
    public void AnRLPolicyScoresObservationsInBatchesLikeTransform()
    {
        var policy = new DqnAgent(DqnAgentTests.QuickCartPole(maxSteps: 600)).Train(ClassicControl.CartPole);
        var context = new MLContext(seed: 1);
        using var model = policy.CreateModel();
        var random = new Random(5);
        var observations = context.Data.LoadFromEnumerable(
            Enumerable.Range(0, 33).Select(_ => new ObservationRow { Observation = [.. Enumerable.Range(0, 4).Select(_ => (float)(random.NextDouble() - 0.5))] }).ToList(),
            SchemaDefinitionFor(4));

        AssertBatchedEqualsTransform(context, model, observations, policy.InputSchema(), Scoring.Batched);
        AssertInMemoryBatchedEqualsTransform(context, model, observations);
    }

    [TestMethod]
    public void AContinuousPolicyScoresObservationsInBatchesLikeTransform()
    {
        var options = new SacOptions(SacPreset.Pendulum) { MaxSteps = 120, Seed = 6, HiddenLayers = [16], BatchSize = 16, LearningStarts = 50, EvaluationFrequency = 120, EvaluationEpisodes = 1, IntraOpThreads = 1 };
        var policy = new SacAgent(options).Train(ClassicControl.Pendulum);
        var context = new MLContext(seed: 1);
        using var model = policy.CreateModel();
        var random = new Random(5);
        var observations = context.Data.LoadFromEnumerable(
            Enumerable.Range(0, 27).Select(_ => new ObservationRow { Observation = [.. Enumerable.Range(0, 3).Select(_ => (float)(random.NextDouble() - 0.5))] }).ToList(),
            SchemaDefinitionFor(3));

        AssertBatchedEqualsTransform(context, model, observations, policy.InputSchema(), Scoring.Batched);
        AssertInMemoryBatchedEqualsTransform(context, model, observations);
    }

    public enum Scoring
    {
        Batched,
        Scanned,
        RowByRow,
    }

    public sealed class ObservationRow
    {
        public float[] Observation { get; set; } = [];
    }

    private static SchemaDefinition SchemaDefinitionFor(int size)
    {
        var definition = SchemaDefinition.Create(typeof(ObservationRow));
        definition[nameof(ObservationRow.Observation)].ColumnName = DiscretePolicy.ObservationColumnName;
        definition[nameof(ObservationRow.Observation)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return definition;
    }

    /// <summary>The model as trained, not saved: the scorer looks through the library's model class to the chain it saves as.</summary>
    private static void AssertInMemoryBatchedEqualsTransform(MLContext context, ITransformer model, IDataView data)
    {
        using var scorer = context.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 8, IntraOpThreads = 1 });
        Assert.AreEqual(1, scorer.Networks.Steps.Count);
        BatchScorerTests.AssertSameData(model.Transform(data), scorer.Transform(data));
    }

    /// <summary>Saves and loads the model (as a batch job would), then compares the batched path with the loaded model's Transform, batch 8.</summary>
    private static void AssertBatchedEqualsTransform(MLContext context, ITransformer model, IDataView data, DataViewSchema? inputSchema = null, Scoring scoring = Scoring.Batched)
    {
        using var stream = new MemoryStream();
        context.Model.Save(model, inputSchema ?? data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        try
        {
            using var scorer = context.Model.CreateBatchScorer(loaded, new BatchScorerOptions { BatchSize = 8, IntraOpThreads = 1 });
            var network = scorer.Networks.Steps.Single();
            var actual = network.Batched is not null ? Scoring.Batched : network.Scanned is not null ? Scoring.Scanned : Scoring.RowByRow;
            Assert.AreEqual(scoring, actual, network.RowByRowReason);
            BatchScorerTests.AssertSameData(loaded.Transform(data), scorer.Transform(data));
        }
        finally
        {
            (loaded as IDisposable)?.Dispose();
        }
    }
}
