using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Tests.Tabular;

namespace ML.DeepExtensions.Tests.MLNet;

/// <summary>
/// ML.NET's PredictionEngine owns its model by default, and disposing it disposes a loaded model's
/// ONNX Runtime session (dotnet/machinelearning#5945; issue 12, item 1). The failure is shown in a
/// child process (it can be a native crash); the patterns the docs recommend are shown safe here on
/// four threads.
/// </summary>
[TestClass]
public sealed class PredictionEngineDisposalTests
{
    private const int Threads = 4;

    private static readonly string LoadCheckPath = typeof(PredictionEngineDisposalTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelLoadCheckPath").Value!;

    private static readonly MLContext Context = new(seed: 1);

    private static byte[] _savedModel = [];

    public TestContext TestContext { get; set; } = null!;
    private static List<TabularFixtures.Row> _rows = [];
    private static float[][] _expectedScores = [];

    [ClassInitialize]
    public static void TrainAndSave(TestContext _)
    {
        _rows = TabularFixtures.Rows(120);
        var data = TabularFixtures.KeyLabel(Context).Fit(TabularFixtures.Load(Context, _rows)).Transform(TabularFixtures.Load(Context, _rows));
        var model = Context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [8], epochs: 3).Fit(data);
        using var stream = new MemoryStream();
        Context.Model.Save(model, data.Schema, stream);
        _savedModel = stream.ToArray();
        _expectedScores = model.Transform(TabularFixtures.Load(Context, _rows)).GetColumn<float[]>("Score").ToArray();
    }

    [TestMethod]
    public void DisposingADefaultEngineBreaksTheLoadedModelForLaterCalls()
    {
        var outcome = RunLoadCheck("--dispose-engine");
        TestContext.WriteLine(string.Join(Environment.NewLine, outcome.Select(o => $"{o.Key}: {o.Value}")));

        // Before the disposal the engine works; afterwards a new engine and Transform on the same
        // loaded model fail (a managed exception, or the process dies).
        Assert.AreEqual("ok", outcome.GetValueOrDefault("predict-before-dispose"), string.Join("; ", outcome));
        Assert.IsTrue(outcome.GetValueOrDefault("predict-on-a-new-engine", "crashed") != "ok", "a new engine on the disposed model still worked: the ML.NET behaviour changed, revisit docs/reliability.md");
        if (outcome.TryGetValue("transform", out string? transform))
        {
            Assert.AreNotEqual("ok", transform, "Transform on the disposed model still worked");
        }
    }

    [TestMethod]
    public void EnginesThatDoNotOwnTheModelCanBeCreatedAndDisposedOnFourThreads()
    {
        var model = Load(out _);
        var options = new PredictionEngineOptions { OwnsTransformer = false };

        RunOnThreads(() =>
        {
            for (int round = 0; round < 3; round++)
            {
                using var engine = Context.Model.CreatePredictionEngine<TabularFixtures.Row, Prediction>(model, options);
                for (int i = 0; i < _rows.Count; i += 7)
                {
                    AssertScores(i, engine.Predict(_rows[i]).Score);
                }
            }
        });

        // The model survived every disposal.
        var scores = model.Transform(TabularFixtures.Load(Context, _rows)).GetColumn<float[]>("Score").ToArray();
        AssertScores(0, scores[0]);
        AssertScores(_rows.Count - 1, scores[^1]);
    }

    [TestMethod]
    public void OneThreadSafePredictorServesFourThreadsAndItsDisposalLeavesTheModelUsable()
    {
        var model = Load(out var inputSchema);

        using (var predictor = Context.Model.CreateThreadSafePredictor<TabularFixtures.Row, Prediction>(model, inputSchema))
        {
            RunOnThreads(() =>
            {
                for (int i = 0; i < _rows.Count; i++)
                {
                    AssertScores(i, predictor.Predict(_rows[i]).Score);
                }
            });
        }

        using var again = Context.Model.CreateThreadSafePredictor<TabularFixtures.Row, Prediction>(model, inputSchema);
        AssertScores(3, again.Predict(_rows[3]).Score);
        AssertScores(5, model.Transform(TabularFixtures.Load(Context, _rows)).GetColumn<float[]>("Score").ToArray()[5]);
    }

    [TestMethod]
    public void AThreadSafePredictorNamesTheColumnOfAnInputArrayOfTheWrongLength()
    {
        var model = Load(out var inputSchema);
        using var predictor = Context.Model.CreateThreadSafePredictor<TabularFixtures.Row, Prediction>(model, inputSchema);

        var shortRow = Assert.ThrowsExactly<ArgumentException>(() => predictor.Predict(new TabularFixtures.Row { Features = [1, 2, 3] }));
        var nullRow = Assert.ThrowsExactly<ArgumentException>(() => predictor.Predict(new TabularFixtures.Row { Features = null! }));

        StringAssert.Contains(shortRow.Message, "'Features' (Features) has 3 values; the model expects a vector of 5");
        StringAssert.Contains(nullRow.Message, "'Features' (Features) is null");
        AssertScores(0, predictor.Predict(_rows[0]).Score);
    }

    [TestMethod]
    public void AThreadSafePredictorGivesAnUnsizedInputArrayTheSizeTheModelExpects()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Rows(60);
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, rows)).Transform(TabularFixtures.Load(context, rows));
        var model = context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [8], epochs: 1).Fit(data);

        // UnsizedRow.Features has no [VectorType]: ML.NET's own engine would see a variable-size vector.
        var plain = Assert.ThrowsExactly<ArgumentException>(() => context.Model.CreatePredictionEngine<UnsizedRow, Prediction>(model));
        using var predictor = context.Model.CreateThreadSafePredictor<UnsizedRow, Prediction>(model);

        StringAssert.Contains(plain.Message, "variable-size vector cannot be scored");
        Assert.HasCount(3, predictor.Predict(new UnsizedRow { Features = rows[0].Features }).Score);
        var wrong = Assert.ThrowsExactly<ArgumentException>(() => predictor.Predict(new UnsizedRow { Features = [1, 2, 3, 4, 5, 6] }));
        StringAssert.Contains(wrong.Message, "has 6 values; the model expects a vector of 5");
    }

    [TestMethod]
    public void WithTheLoadedInputSchemaAnUnsizedInputArrayScoresALoadedModel()
    {
        var model = Load(out var inputSchema);
        // ML.NET's own engine on a loaded model fails on every row of a variable-size vector, even of the right length.
        using var plain = Context.Model.CreatePredictionEngine<UnsizedRow, Prediction>(model, new PredictionEngineOptions { OwnsTransformer = false });
        var failure = Assert.Throws<ArgumentOutOfRangeException>(() => plain.Predict(new UnsizedRow { Features = _rows[0].Features }));

        using var predictor = Context.Model.CreateThreadSafePredictor<UnsizedRow, Prediction>(model, inputSchema);

        StringAssert.Contains(failure.Message, "Index was out of range");
        AssertScores(2, predictor.Predict(new UnsizedRow { Features = _rows[2].Features }).Score);
    }

    [TestMethod]
    public void APredictorCannotBeUsedAfterDisposal()
    {
        var predictor = Context.Model.CreateThreadSafePredictor<TabularFixtures.Row, Prediction>(Load(out var schema), schema);
        predictor.Dispose();
        predictor.Dispose();

        Assert.ThrowsExactly<ObjectDisposedException>(() => predictor.Predict(_rows[0]));
    }

    private static ITransformer Load(out DataViewSchema inputSchema)
    {
        using var stream = new MemoryStream(_savedModel);
        return Context.Model.Load(stream, out inputSchema);
    }

    private static void AssertScores(int row, float[] actual)
    {
        Assert.HasCount(_expectedScores[row].Length, actual);
        for (int k = 0; k < actual.Length; k++)
        {
            Assert.AreEqual(_expectedScores[row][k], actual[k], 1e-5, $"row {row}, class {k}");
        }
    }

    private static void RunOnThreads(Action work)
    {
        using var start = new Barrier(Threads);
        var tasks = Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            work();
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks);
    }

    /// <summary>Runs the load-check program on the saved model; returns its "call → outcome" lines ("crashed" entries are absent).</summary>
    private static Dictionary<string, string> RunLoadCheck(string mode)
    {
        string directory = Directory.CreateTempSubdirectory("mldx-dispose-").FullName;
        try
        {
            string modelPath = Path.Combine(directory, "model.zip");
            string featuresPath = Path.Combine(directory, "features.csv");
            File.WriteAllBytes(modelPath, _savedModel);
            File.WriteAllLines(featuresPath, _rows.Take(10).Select(r => string.Join(',', r.Features.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))));
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(LoadCheckPath);
            start.ArgumentList.Add(mode);
            start.ArgumentList.Add(modelPath);
            start.ArgumentList.Add(featuresPath);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(120_000), "the load-check program did not finish in time");
            return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.TrimEnd('\r').Split('\t'))
                .Where(fields => fields.Length == 2)
                .ToDictionary(fields => fields[0], fields => fields[1]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = [];
    }

    private sealed class UnsizedRow
    {
        public float[] Features { get; set; } = [];
    }
}
