using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Tests.Scoring;

/// <summary>
/// The scorer stage that the batched path computes itself must give exactly what ML.NET's scorers
/// give: checked here against ML.NET's own transformers of the saved models, on raw network outputs
/// chosen to be hard (ties, near ties, NaN, infinities, huge and tiny values).
/// </summary>
[TestClass]
public sealed class ScorerStageTests
{
    [TestMethod]
    [DataRow("multiclass", "Multiclass")]
    [DataRow("binary", "Binary")]
    [DataRow("regression", "Regression")]
    [DataRow("cnn", "Multiclass")]
    [DataRow("chain", "Multiclass")]
    public void TheStageOurTrainersWriteIsRecognised(string kind, string task)
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath(kind), out _);
        var networks = ModelNetworks.Find(model);
        var network = networks.Steps.Single();

        var stage = ScorerStage.Recognise(networks.Leaves, network.Index, network.Batched!);

        Assert.IsNotNull(stage);
        Assert.AreEqual(task, stage.Task.ToString());
        // The schema the network sees: the test data after the ML.NET transforms before it.
        var schema = ScoringFixtures.TestData(context, kind).Schema;
        foreach (var (transformer, _) in networks.Leaves.Take(network.Index))
        {
            schema = transformer.GetOutputSchema(schema);
        }

        Assert.IsNotNull(stage.Bind(networks.Leaves, network.Index, schema), "the test data's schema binds");
    }

    [TestMethod]
    [DataRow("multiclass")]
    [DataRow("binary")]
    [DataRow("regression")]
    [DataRow("cnn")]
    public void TheBatchedViewComputesTheScorerColumnsItself(string kind)
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath(kind), out _);
        using var scorer = context.Model.CreateBatchScorer(model);

        // No ML.NET scorer transformer left after the network: the whole chain ends in the batched view.
        Assert.IsInstanceOfType<BatchedOnnxDataView>(scorer.Transform(ScoringFixtures.TestData(context, kind)));
    }

    [TestMethod]
    public void AnotherModelAfterTheNetworkIsNotRecognised()
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath("multiclass"), out _);
        var networks = ModelNetworks.Find(model);
        var network = networks.Steps.Single();
        // The same leaves, with the scorer's neighbour (the drop) missing.
        var truncated = networks.Leaves.Take(network.Index + 2).ToList();

        Assert.IsNull(ScorerStage.Recognise(truncated, network.Index, network.Batched!));
    }

    [TestMethod]
    public void InputWithItsOwnScoreColumnScoresLikeTransform()
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath("regression"), out _);
        var data = ScoringFixtures.TestData(context, "regression");
        // A Score (and a Probability) already in the data: ML.NET's scorer hides them and the drop removes them.
        var withScore = context.Transforms.CopyColumns("Score", "Target").Append(context.Transforms.CopyColumns("Probability", "Target")).Fit(data).Transform(data);
        using var scorer = context.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 8 });

        BatchScorerTests.AssertSameData(model.Transform(withScore), scorer.Transform(withScore));
    }

    [TestMethod]
    public void MulticlassMatchesMLNetOnHardLogits()
    {
        var rows = new List<float[]>
        {
            new[] { 1f, 1f, 1f },                                         // exact tie: the first
            new[] { 0f, 2f, 2f },                                         // tie after a smaller one
            new[] { 5f, BitDecrement(5f), 5f },                           // one ulp apart
            new[] { BitDecrement(7f), 7f, -3f },                          // the larger is second, one ulp above
            new[] { 1e30f, 1e30f, -1e30f },                               // huge
            new[] { -1e-30f, 1e-30f, 0f },                                // tiny
            new[] { 100f, 0f, -100f },                                    // beyond the 30 cut-off
            new[] { float.NaN, 1f, 2f },                                  // NaN
            new[] { float.NaN, float.NaN, float.NaN },                    // all NaN: label 0
            new[] { float.PositiveInfinity, 1f, 2f },                     // +inf
            new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity },
            new[] { float.NegativeInfinity, 0f, 1f },
            new[] { 0.3f, 0.1f, 0.2f },
            new[] { -2f, 3.5f, 3.4999998f },
            new[] { 31.9f, 31.8f, -5f },                                  // near the fast path's range
            new[] { 40f, 39.9f, 39f },                                    // beyond it
            new[] { -40f, -41f, -39.5f },
        };
        var random = new Random(5);
        for (int i = 0; i < 300; i++)
        {
            double scale = i < 100 ? 10 : i < 200 ? 35 : 1e-3;
            rows.Add([(float)((random.NextDouble() * 2 - 1) * scale), (float)((random.NextDouble() * 2 - 1) * scale), (float)((random.NextDouble() * 2 - 1) * scale)]);
        }

        var (stage, expected) = RunMLNetStage("multiclass", rows);
        Assert.AreEqual(3, stage.Classes, "the fixture has three classes");
        // On entry the scores hold the graph's softmax (ONNX Runtime's); here the same in double precision.
        var scores = rows.SelectMany(Softmax).ToArray();
        var labels = new uint[rows.Count];

        stage.Multiclass(rows.SelectMany(r => r).ToArray(), rows.Count, scores, labels);

        var expectedScores = expected.GetColumn<float[]>("Score").ToArray();
        var expectedLabels = expected.GetColumn<uint>("PredictedLabel").ToArray();
        for (int r = 0; r < rows.Count; r++)
        {
            string where = $"row {r} [{string.Join(", ", rows[r])}]";
            Assert.AreEqual(expectedLabels[r], labels[r], where);
            for (int c = 0; c < 3; c++)
            {
                float e = expectedScores[r][c], a = scores[(r * 3) + c];
                Assert.IsTrue(float.IsNaN(e) ? float.IsNaN(a) : Math.Abs(e - a) <= 1e-5, $"{where}, class {c}: {e} vs {a}");
            }
        }
    }

    [TestMethod]
    public void BinaryMatchesMLNetOnHardValues()
    {
        float[] raw = [0f, -0f, float.Epsilon, -float.Epsilon, 1f, -1f, 30f, -30f, 100f, -100f, 1e30f, -1e30f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0.5f];
        var (stage, expected) = RunMLNetStage("binary", raw.Select(v => new[] { v }).ToList());

        var scores = expected.GetColumn<float>("Score").ToArray();
        var predicted = expected.GetColumn<bool>("PredictedLabel").ToArray();
        var probabilities = expected.GetColumn<float>("Probability").ToArray();
        for (int r = 0; r < raw.Length; r++)
        {
            float score = stage.Score(raw[r]);
            Assert.AreEqual(scores[r], score, $"score of {raw[r]}");
            Assert.AreEqual(predicted[r], stage.Predicted(score), $"label of {raw[r]}");
            Assert.AreEqual(probabilities[r], stage.Probability(score), $"probability of {raw[r]}");
        }
    }

    [TestMethod]
    public void RegressionMatchesMLNetOnHardValues()
    {
        float[] raw = [0f, -0f, 1.5f, -1e30f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        var (stage, expected) = RunMLNetStage("regression", raw.Select(v => new[] { v }).ToList());

        var scores = expected.GetColumn<float>("Score").ToArray();
        for (int r = 0; r < raw.Length; r++)
        {
            Assert.AreEqual(scores[r], stage.Score(raw[r]), $"score of {raw[r]}");
        }
    }

    private static float BitDecrement(float value) => MathF.BitDecrement(value);

    private static float[] Softmax(float[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(x => Math.Exp(x - max)).ToArray();
        return e.Select(v => (float)(v / e.Sum())).ToArray();
    }

    /// <summary>The saved model's own scorer leaves (after the network) applied by ML.NET to the given raw outputs.</summary>
    private static (ScorerStage Stage, IDataView Scored) RunMLNetStage(string kind, List<float[]> rawRows)
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath(kind), out _);
        var networks = ModelNetworks.Find(model);
        var network = networks.Steps.Single();
        var stage = ScorerStage.Recognise(networks.Leaves, network.Index, network.Batched!)!;
        int width = (int)network.Batched!.OutputWidth;
        var definition = SchemaDefinition.Create(typeof(RawRow));
        var column = definition[nameof(RawRow.Raw)];
        column.ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        column.ColumnName = network.Batched!.OutputName;
        IDataView data = context.Data.LoadFromEnumerable(rawRows.Select(r => new RawRow { Raw = r }).ToList(), definition);
        for (int i = network.Index + 1; i <= network.Index + stage.Leaves; i++)
        {
            data = networks.Leaves[i].Transformer.Transform(data);
        }

        return (stage, data);
    }

    private sealed class RawRow
    {
        public float[] Raw { get; set; } = [];
    }
}
