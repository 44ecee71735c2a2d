using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Sequence;

[TestClass]
public sealed class CharacterLanguageModelTests
{
    private static readonly string LoadCheckPath = typeof(CharacterLanguageModelTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelLoadCheckPath").Value!;

    private static readonly Lazy<(MLContext Context, CharacterLanguageModel Model)> Trained = new(() =>
    {
        var context = new MLContext(seed: 1);
        var model = context.Transforms.Text.CharacterLanguageModel(Small()).Fit(Load(context, Texts(120)));
        return (context, model);
    });

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    /// <summary>Short sentences of a few words: learnable structure, a vocabulary of about 25 characters.</summary>
    internal static List<TextRow> Texts(int count, int seed = 3)
    {
        string[] subjects = ["the cat", "a dog", "my aunt", "the cook"];
        string[] verbs = ["sat on", "ate", "saw", "liked"];
        string[] objects = ["the mat", "a fish", "the moon", "some bread"];
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => new TextRow
        {
            Text = $"{subjects[random.Next(4)]} {verbs[random.Next(4)]} {objects[random.Next(4)]}{(random.Next(3) == 0 ? "!" : ".")}",
        })];
    }

    internal static IDataView Load(MLContext context, IEnumerable<TextRow> rows) => context.Data.LoadFromEnumerable(rows);

    private static CharacterLanguageModelOptions Small(RecurrentCell cell = RecurrentCell.Lstm, int layers = 1) => new()
    {
        Cell = cell,
        HiddenUnits = 24,
        Layers = layers,
        EmbeddingDimensions = 8,
        SequenceLength = 12,
        BatchSize = 16,
        Epochs = 6,
        Seed = 5,
        Optimizer = new OptimizerOptions { LearningRate = 0.01 },
        MinCharacterCount = 1,
    };

    [TestMethod]
    public void LearnsTheTextWellBelowAUniformGuess()
    {
        var (context, model) = Trained.Value;
        double bits = model.BitsPerCharacter(Load(context, Texts(40, seed: 9)));
        double uniform = Math.Log2(model.Vocabulary.Count);
        Assert.IsLessThan(uniform / 2, bits, $"{bits} bits/char against a uniform {uniform}");
        Assert.IsLessThan(model.History["bits_per_character"][0], model.History["bits_per_character"][^1]);
        Assert.AreEqual("<unk>", model.Vocabulary[0]);
        Assert.AreEqual("<end>", model.Vocabulary[1]);
    }

    [TestMethod]
    public void MLNetsMulticlassEvaluatorGivesTheSameBitsPerCharacter()
    {
        var (context, model) = Trained.Value;
        // One long text (past the 512-step evaluation window, so the state carries over) and one with unknown characters.
        var texts = Texts(6, seed: 11);
        texts.Add(new TextRow { Text = string.Join(' ', Texts(40, seed: 12).Select(t => t.Text)) });
        texts.Add(new TextRow { Text = "QQ the cat ~ate~ Z" });
        texts.Add(new TextRow { Text = "" });
        var data = Load(context, texts);
        Assert.IsGreaterThan(512, texts[6].Text.Length);

        var rows = model.CreateNextCharacterData(data);
        var scored = model.Transform(rows);
        var metrics = context.MulticlassClassification.Evaluate(scored);
        double direct = model.BitsPerCharacter(data);

        Assert.AreEqual(texts.Sum(t => t.Text.Length + 1L), rows.GetColumn<uint>("Label").LongCount());
        Assert.AreEqual(direct, metrics.LogLoss / Math.Log(2), 1e-4);
        Assert.AreEqual(model.Vocabulary.Count, ((VectorDataViewType)scored.Schema["Score"].Type).Size);
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameTextAndTopOneIsGreedy()
    {
        var model = Trained.Value.Model;
        var options = new GenerationOptions { Temperature = 1.5, Seed = 42, StopAtEndOfText = false };
        string first = model.Generate("the ", 80, options);
        Assert.AreEqual(first, model.Generate("the ", 80, options));
        Assert.HasCount(80, first);
        Assert.AreNotEqual(first, model.Generate("the ", 80, options with { Seed = 43 }));

        string greedy = model.Generate("a dog ", 30, new GenerationOptions { TopK = 1, Seed = 1 });
        Assert.AreEqual(greedy, model.Generate("a dog ", 30, new GenerationOptions { TopK = 1, Seed = 2, Temperature = 3 }));
        Assert.IsTrue(greedy.All(c => model.Vocabulary.Contains(c.ToString())), greedy);
    }

    [TestMethod]
    public void GenerationHandlesEmptyAndUnknownPromptsAndRejectsBadSettings()
    {
        var model = Trained.Value.Model;
        string fresh = model.Generate("", 60, new GenerationOptions { TopK = 3, Seed = 1 });
        Assert.IsGreaterThan(0, fresh.Length);
        Assert.IsLessThanOrEqualTo(60, fresh.Length);
        string unknown = model.Generate("QZ§ ", 20, new GenerationOptions { Seed = 1, StopAtEndOfText = false });
        Assert.HasCount(20, unknown);
        Assert.AreEqual("", model.Generate("the", 0));

        Assert.ThrowsExactly<ArgumentNullException>(() => model.Generate(null!, 5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate("a", -1));
        foreach (double temperature in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate("a", 5, new GenerationOptions { Temperature = temperature }));
            Assert.Contains("Temperature", error.Message);
        }

        var topK = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model.Generate("a", 5, new GenerationOptions { TopK = 0 }));
        Assert.Contains("TopK", topK.Message);
    }

    [TestMethod]
    public void TrainingRejectsBadTextColumnsAndSettingsWithClearMessages()
    {
        var context = new MLContext(seed: 1);
        var trainer = context.Transforms.Text.CharacterLanguageModel(Small());
        var missing = Assert.ThrowsExactly<ArgumentException>(() => context.Transforms.Text.CharacterLanguageModel(new CharacterLanguageModelOptions { TextColumnName = "Body" })
            .Fit(Load(context, Texts(5))));
        Assert.Contains("Body", missing.Message);

        var numbers = context.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1f } });
        Assert.Contains("Text", Assert.ThrowsExactly<ArgumentException>(() => trainer.Fit(numbers)).Message);
        Assert.Contains("no rows", Assert.ThrowsExactly<ArgumentException>(() => trainer.Fit(Load(context, []))).Message);
        var empty = Assert.ThrowsExactly<ArgumentException>(() => trainer.Fit(Load(context, [new TextRow(), new TextRow()])));
        Assert.Contains("MinCharacterCount", empty.Message);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Transforms.Text.CharacterLanguageModel(new CharacterLanguageModelOptions { SequenceLength = 0 }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Transforms.Text.CharacterLanguageModel(new CharacterLanguageModelOptions
        {
            Checkpoints = new CheckpointOptions { Directory = Path.GetTempPath(), EverySteps = 10, EveryEpochs = 0 },
        }));
        Assert.Contains("'Text'", Assert.ThrowsExactly<ArgumentException>(() => Trained.Value.Model.Transform(numbers)).Message);
        var other = context.Data.LoadFromEnumerable(new[] { new OtherRow() });
        Assert.Contains("'Text'", Assert.ThrowsExactly<ArgumentException>(() => Trained.Value.Model.Transform(other)).Message);
    }

    [TestMethod]
    public void TrainsInsideAnMLNetPipelineAndScoresTheTextColumnAsContext()
    {
        var context = new MLContext(seed: 1);
        var pipeline = context.Transforms.Text.NormalizeText("Text", caseMode: Microsoft.ML.Transforms.Text.TextNormalizingEstimator.CaseMode.Lower)
            .Append(context.Transforms.Text.CharacterLanguageModel(Small().WithContextColumn("Prefix").WithContextColumn(null)));
        var model = pipeline.Fit(Load(context, Texts(120)));
        var scored = model.Transform(Load(context, [new TextRow { Text = "THE CAT SAT ON THE MA" }]));
        var score = scored.GetColumn<float[]>("Score").Single();
        Assert.AreEqual(1.0, score.Sum(), 1e-4);
        var vocabulary = model.LastTransformer.Vocabulary;
        Assert.AreEqual("t", vocabulary[Array.IndexOf(score, score.Max())], "after 'the cat sat on the ma' comes 't'");
        model.LastTransformer.Dispose();
    }

    [TestMethod]
    public void RareCharactersBecomeTheUnknownCharacter()
    {
        var context = new MLContext(seed: 1);
        var texts = Texts(30);
        texts.Add(new TextRow { Text = "the cat ate a qx" });
        var model = context.Transforms.Text.CharacterLanguageModel(Small().WithMinimum(2)).Fit(Load(context, texts));
        Assert.IsFalse(model.Vocabulary.Contains("q"));
        Assert.IsTrue(model.Vocabulary.Contains("t"));
        model.Dispose();
    }

    [TestMethod]
    [DataRow(RecurrentCell.Lstm)]
    [DataRow(RecurrentCell.Gru)]
    [DataRow(RecurrentCell.Simple)]
    public void TheStepGraphMatchesTheNetworkOverSeveralSteps(RecurrentCell cell)
    {
        TrainingRun.SeedForInitialisation(3);
        using var network = new CharacterNetwork(cell, vocabulary: 9, embeddingDimensions: 5, hiddenUnits: 7, layers: 2, dropoutRate: 0);
        network.eval();
        long[] ids = [1, 4, 2, 8, 0, 3, 3, 6];
        float[] expected;
        using (no_grad())
        {
            expected = network.forward(tensor(ids, [1, ids.Length])).data<float>().ToArray();
        }

        var graph = CharacterNetworkExport.StepGraph(network);
        using var session = new InferenceSession(graph.ToBytes());
        var hidden = new float[2 * 7];
        var cellState = new float[2 * 7];
        double worst = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            using var id = OrtValue.CreateTensorValueFromMemory(new[] { ids[t] }, [1]);
            using var h = OrtValue.CreateTensorValueFromMemory(hidden, [2, 1, 7]);
            using var c = OrtValue.CreateTensorValueFromMemory(cellState, [2, 1, 7]);
            var inputs = new Dictionary<string, OrtValue> { ["CharacterId"] = id, ["Hidden"] = h };
            string[] outputs = ["Logits", "HiddenOut"];
            if (cell == RecurrentCell.Lstm)
            {
                inputs["Cell"] = c;
                outputs = [.. outputs, "CellOut"];
            }

            using var results = session.Run(new RunOptions(), inputs, outputs);
            var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
            worst = Math.Max(worst, logits.Select((v, i) => Math.Abs(v - expected[(t * 9) + i])).Max());
            results[1].GetTensorDataAsSpan<float>().CopyTo(hidden);
            if (cell == RecurrentCell.Lstm)
            {
                results[2].GetTensorDataAsSpan<float>().CopyTo(cellState);
            }
        }

        Assert.IsLessThanOrEqualTo(1e-4, worst, $"largest logit difference {worst}");
    }

    [TestMethod]
    public void ASavedModelScoresAndGeneratesInAProcessWithoutThisLibrary()
    {
        var context = new MLContext(seed: 1);
        using var model = context.Transforms.Text.CharacterLanguageModel(Small(RecurrentCell.Gru, layers: 2)).Fit(Load(context, Texts(80)));
        string[] contexts = ["the c", "", "a dog sat on the m", "QQ"];
        var expected = model.Transform(Load(context, contexts.Select(c => new TextRow { Text = c }))).GetColumn<float[]>("Score").ToArray();
        string[] prompts = ["the ", "a dog", ""];
        var greedy = prompts.Select(p => model.Generate(p, 40, new GenerationOptions { TopK = 1 })).ToArray();

        string directory = Directory.CreateTempSubdirectory("mldx-lm-").FullName;
        try
        {
            string zip = Path.Combine(directory, "model.zip"), step = Path.Combine(directory, "step.onnx");
            string contextsFile = Path.Combine(directory, "contexts.txt"), promptsFile = Path.Combine(directory, "prompts.txt");
            context.Model.Save(model, Load(context, []).Schema, zip);
            model.SaveGenerator(step);
            File.WriteAllLines(contextsFile, contexts);
            File.WriteAllLines(promptsFile, prompts);

            var scoredLines = RunLoadCheck("--text", zip, contextsFile);
            var header = scoredLines[0].Split('\t').ToList();
            CollectionAssert.AreEquivalent(new[] { "Score", "PredictedLabel" }, header);
            for (int i = 0; i < contexts.Length; i++)
            {
                var scores = scoredLines[i + 1].Split('\t')[header.IndexOf("Score")].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                Assert.IsLessThanOrEqualTo(1e-5, scores.Zip(expected[i], (a, b) => Math.Abs(a - b)).Max(), $"context {i}");
            }

            var generated = RunLoadCheck("--language-model", step, promptsFile, "40");
            CollectionAssert.AreEqual(greedy.Select(g => g.Replace("\n", "\\n", StringComparison.Ordinal)).ToArray(), generated);

            using var loaded = CharacterGenerator.Load(step);
            Assert.AreEqual(greedy[0], loaded.Generate(prompts[0], 40, new GenerationOptions { TopK = 1 }));
            CollectionAssert.AreEqual(model.Vocabulary.ToArray(), loaded.Vocabulary.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void LoadingSomethingThatIsNotAStepGraphFailsWithAClearMessage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mldx-not-a-model-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "not a model");
        try
        {
            Assert.Contains(path, Assert.ThrowsExactly<InvalidDataException>(() => CharacterGenerator.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.ThrowsExactly<FileNotFoundException>(() => CharacterGenerator.Load(path));
    }

    [TestMethod]
    public void ResumingFromAnEpochCheckpointEndsWithTheSameModel()
    {
        var context = new MLContext(seed: 1);
        string directory = Directory.CreateTempSubdirectory("mldx-lm-ckpt-").FullName;
        try
        {
            var data = Load(context, Texts(40));
            var options = Small().WithEpochs(3);
            using var full = context.Transforms.Text.CharacterLanguageModel(options.WithCheckpoints(directory)).Fit(data);
            using var resumed = context.Transforms.Text.CharacterLanguageModel(options.WithResume(Path.Combine(directory, "checkpoint-epoch-0002.mldx"))).Fit(data);
            var test = Load(context, Texts(10, seed: 8));
            Assert.AreEqual(full.BitsPerCharacter(test), resumed.BitsPerCharacter(test));
            Assert.AreEqual(full.Generate("the", 30, new GenerationOptions { Seed = 3 }), resumed.Generate("the", 30, new GenerationOptions { Seed = 3 }));
            CollectionAssert.AreEqual(full.History["loss"].ToArray(), resumed.History["loss"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string[] RunLoadCheck(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(LoadCheckPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(120_000), "the load-check program did not finish in time");
        Assert.AreEqual(0, process.ExitCode, stderr.Result);
        return [.. stdout.Result.Split('\n').Select(l => l.TrimEnd('\r')).SkipLast(1)];
    }

    private sealed class NumberRow
    {
        public float Text { get; set; }
    }

    private sealed class OtherRow
    {
        public string Body { get; set; } = "";
    }
}

/// <summary>Copies of options with one setting changed (the options are a class with init-only properties).</summary>
internal static class LanguageModelOptionCopies
{
    public static CharacterLanguageModelOptions WithMinimum(this CharacterLanguageModelOptions o, int minimum) => Copy(o, minimum: minimum);

    public static CharacterLanguageModelOptions WithContextColumn(this CharacterLanguageModelOptions o, string? column) => Copy(o, context: column, contextSet: true);

    public static CharacterLanguageModelOptions WithEpochs(this CharacterLanguageModelOptions o, int epochs) => Copy(o, epochs: epochs);

    public static CharacterLanguageModelOptions WithCheckpoints(this CharacterLanguageModelOptions o, string directory) =>
        Copy(o, checkpoints: new CheckpointOptions { Directory = directory, EveryEpochs = 1 });

    public static CharacterLanguageModelOptions WithResume(this CharacterLanguageModelOptions o, string checkpoint) => Copy(o, resume: checkpoint);

    private static CharacterLanguageModelOptions Copy(CharacterLanguageModelOptions o, int? minimum = null, string? context = null, int? epochs = null, CheckpointOptions? checkpoints = null, string? resume = null, bool contextSet = false) => new()
    {
        Cell = o.Cell,
        HiddenUnits = o.HiddenUnits,
        Layers = o.Layers,
        EmbeddingDimensions = o.EmbeddingDimensions,
        SequenceLength = o.SequenceLength,
        BatchSize = o.BatchSize,
        Epochs = epochs ?? o.Epochs,
        Seed = o.Seed,
        Optimizer = o.Optimizer,
        MinCharacterCount = minimum ?? o.MinCharacterCount,
        ContextColumnName = contextSet ? context : o.ContextColumnName,
        Checkpoints = checkpoints ?? o.Checkpoints,
        ResumeFromCheckpoint = resume ?? o.ResumeFromCheckpoint,
    };
}
