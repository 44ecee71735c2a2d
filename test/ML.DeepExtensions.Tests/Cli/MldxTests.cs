using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.Scoring;
using ML.DeepExtensions.Tests.Tabular;

namespace ML.DeepExtensions.Tests.Cli;

[TestClass]
public sealed class MldxTests
{
    private string _folder = null!;

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("mldx-cli-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>Temporary outputs start with a dot, which .NET counts as hidden on Unix.</summary>
    private static readonly EnumerationOptions AllFiles = new() { AttributesToSkip = 0 };

    private string File(string name) => Path.Combine(_folder, name);

    private string[] Partials() => Directory.GetFiles(_folder, "*.partial", AllFiles);

    [TestMethod]
    public void ScoreWritesTheValuesOfTransformWithoutLoadingTorchSharp()
    {
        string model = ScoringFixtures.ModelPath("multiclass");
        Mldx.WriteTabularCsv(File("in.csv"), rows: 300);

        var run = Mldx.Run(new Dictionary<string, string> { ["MLDX_REPORT_ASSEMBLIES"] = "1" },
            "score", model, File("in.csv"), "-o", File("out.csv"), "--keep", "Id", "--batch-size", "64", "--threads", "1");

        Assert.AreEqual(0, run.ExitCode, run.Error);
        Assert.DoesNotContain("loaded-assembly: TorchSharp", run.Error);
        StringAssert.Contains(run.Error, "loaded-assembly: Microsoft.ML.OnnxRuntime");
        var context = new MLContext(seed: 1);
        var expected = context.Model.Load(model, out _).Transform(TabularFixtures.Load(context, TabularFixtures.Rows(300, seed: 9)));
        var scores = expected.GetColumn<float[]>("Score").ToArray();
        var labels = context.Transforms.Conversion.MapKeyToValue("Name", "PredictedLabel").Fit(expected).Transform(expected).GetColumn<string>("Name").ToArray();
        var (header, rows) = Mldx.ReadCsv(File("out.csv"));
        Assert.AreEqual("Id", header[0]);
        Assert.AreEqual("PredictedLabel", header[1]);
        Assert.HasCount(300, rows);
        // Score columns are named after the classes, in the model's key order.
        var classes = header.Skip(2).Select(h => h["Score.".Length..]).ToArray();
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.AreEqual($"id{i}", rows[i][0]);
            Assert.AreEqual(labels[i], rows[i][1]);
            for (int k = 0; k < classes.Length; k++)
            {
                Assert.AreEqual(scores[i][k], float.Parse(rows[i][2 + k], CultureInfo.InvariantCulture), 1e-5);
            }
        }
    }

    [TestMethod]
    public void ParquetOutputReadsBackAsInputAndGivesTheSameScores()
    {
        string model = ScoringFixtures.ModelPath("binary");
        Mldx.WriteTabularCsv(File("in.csv"), rows: 120);
        string keep = "Id,Features.0,Features.1,Features.2,Features.3,Features.4";

        var first = Mldx.Run("score", model, File("in.csv"), "-o", File("a.csv"), "--keep", "Id");
        var toParquet = Mldx.Run("score", model, File("in.csv"), "-o", File("b.parquet"), "--keep", keep);

        Assert.AreEqual(0, first.ExitCode, first.Error);
        Assert.AreEqual(0, toParquet.ExitCode, toParquet.Error);
        // Kept columns are written as text: Parquet typing refuses them as the model's numbers.
        var wrongType = Mldx.Run("score", model, File("b.parquet"), "-o", File("c.csv"));
        Assert.AreEqual(2, wrongType.ExitCode, wrongType.Error);
        StringAssert.Contains(wrongType.Error, "Parquet column 'Features.0' has type String");
        Assert.DoesNotContain("   at ", wrongType.Error);
        var (header, rows) = Mldx.ReadCsv(File("a.csv"));
        CollectionAssert.AreEqual(new[] { "Id", "PredictedLabel", "Score", "Probability" }, header);
        Assert.HasCount(120, rows);
    }

    [TestMethod]
    public async Task ATypedParquetInputScoresLikeTheSameRowsInCsv()
    {
        string model = ScoringFixtures.ModelPath("regression");
        var rows = TabularFixtures.Rows(70, seed: 9);
        Mldx.WriteTabularCsv(File("in.csv"), rows: 70);
        var fields = new List<Parquet.Schema.DataField> { new Parquet.Schema.DataField<string>("Id") };
        fields.AddRange(Enumerable.Range(0, 5).Select(f => new Parquet.Schema.DataField<float>($"Features.{f}")));
        fields.Add(new Parquet.Schema.DataField<string>("Category"));
        await using (var stream = System.IO.File.Create(File("in.parquet")))
        {
            await using var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(fields), stream);
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(fields[0], rows.Select((_, i) => $"id{i}").ToArray(), null);
            for (int f = 0; f < 5; f++)
            {
                await group.WriteAsync(fields[1 + f], (ReadOnlyMemory<float>)rows.Select(r => r.Features[f]).ToArray());
            }

            await group.WriteAsync(fields[6], rows.Select(r => r.Category).ToArray(), null);
        }

        var fromCsv = Mldx.Run("score", model, File("in.csv"), "-o", File("a.csv"), "--keep", "Id");
        var fromParquet = Mldx.Run("score", model, File("in.parquet"), "-o", File("b.csv"), "--keep", "Id");

        Assert.AreEqual(0, fromCsv.ExitCode, fromCsv.Error);
        Assert.AreEqual(0, fromParquet.ExitCode, fromParquet.Error);
        CollectionAssert.AreEqual(System.IO.File.ReadAllLines(File("a.csv")), System.IO.File.ReadAllLines(File("b.csv")));
        Assert.HasCount(71, System.IO.File.ReadAllLines(File("b.csv")));
    }

    [TestMethod]
    public void ShardsTogetherGiveExactlyTheRowsOfOneRun()
    {
        string model = ScoringFixtures.ModelPath("multiclass");
        Mldx.WriteTabularCsv(File("in.csv"), rows: 203);

        var whole = Mldx.Run("score", model, File("in.csv"), "-o", File("all.csv"), "--keep", "Id", "-b", "16");
        Assert.AreEqual(0, whole.ExitCode, whole.Error);
        var parts = new List<string[]>();
        for (int shard = 0; shard < 3; shard++)
        {
            var run = Mldx.Run("score", model, File("in.csv"), "-o", File($"part{shard}.csv"), "--keep", "Id", "-b", "16", "--shard", $"{shard}/3");
            Assert.AreEqual(0, run.ExitCode, run.Error);
            var (_, rows) = Mldx.ReadCsv(File($"part{shard}.csv"));
            Assert.IsTrue(rows.All(r => int.Parse(r[0][2..], CultureInfo.InvariantCulture) % 3 == shard), "a shard holds only its own rows");
            parts.AddRange(rows);
        }

        var all = Mldx.ReadCsv(File("all.csv")).Rows;
        Assert.HasCount(203, all);
        CollectionAssert.AreEqual(
            all.Select(r => string.Join(',', r)).Order(StringComparer.Ordinal).ToList(),
            parts.Select(r => string.Join(',', r)).Order(StringComparer.Ordinal).ToList());
    }

    [TestMethod]
    public void AMalformedRowIsNamedByLineAndColumnAndLeavesNoOutput()
    {
        string model = ScoringFixtures.ModelPath("multiclass");
        Mldx.WriteTabularCsv(File("in.csv"), rows: 40, corrupt: i => i == 30 ? "id30,1,2,oops,4,5,a" : null);

        var run = Mldx.Run("score", model, File("in.csv"), "-o", File("out.csv"));

        Assert.AreEqual(2, run.ExitCode);
        StringAssert.Contains(run.Error, "Line 32");
        StringAssert.Contains(run.Error, "column 'Features.2' (column 4): 'oops' is not a number");
        Assert.DoesNotContain("   at ", run.Error);
        Assert.IsEmpty(Directory.GetFiles(_folder, "*", AllFiles).Where(f => !f.EndsWith("in.csv", StringComparison.Ordinal)).ToArray(), "no output, no partial file");
    }

    [TestMethod]
    public void ARejectFileTakesTheBadRowsAndTheRestIsScored()
    {
        string model = ScoringFixtures.ModelPath("multiclass");
        Mldx.WriteTabularCsv(File("in.csv"), rows: 40, corrupt: i => i switch
        {
            3 => "id3,1,2,3",
            17 => "id17,1,2,x,4,5,a",
            _ => null,
        });

        var run = Mldx.Run("score", model, File("in.csv"), "-o", File("out.csv"), "--keep", "Id", "--reject-file", File("rejects.csv"));

        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.Contains(run.Error, "Skipped 2 malformed rows");
        var rejected = System.IO.File.ReadAllLines(File("rejects.csv"));
        CollectionAssert.AreEqual(new[] { "Id,Features.0,Features.1,Features.2,Features.3,Features.4,Category", "id3,1,2,3", "id17,1,2,x,4,5,a" }, rejected);
        var (_, rows) = Mldx.ReadCsv(File("out.csv"));
        Assert.HasCount(38, rows);
        Assert.IsFalse(rows.Any(r => r[0] is "id3" or "id17"));
    }

    [TestMethod]
    public void QuotedFieldsAndCrlfLineEndsAreReadAndWrittenBack()
    {
        // Ids with a separator, doubled quotes and a line break; Windows line ends; a blank line.
        System.IO.File.WriteAllText(File("in.csv"),
            "Id,Features.0,Features.1,Features.2,Features.3,Features.4,Category\r\n"
            + "\"Smith, J\",1,2,3,4,5,a\r\n"
            + "\"say \"\"hi\"\"\",1,2,3,4,5,a\r\n"
            + "\r\n"
            + "\"two\nlines\",1,2,3,4,5,a\r\n"
            + "plain,1,2,bad,4,5,a\r\n");

        var run = Mldx.Run("score", ScoringFixtures.ModelPath("multiclass"), File("in.csv"), "-o", File("out.csv"), "--keep", "Id");

        // The bad row is on line 7: the quoted line break counts as a line.
        Assert.AreEqual(2, run.ExitCode, run.Error);
        StringAssert.Contains(run.Error, "Line 7 of");
        var ok = Mldx.Run("score", ScoringFixtures.ModelPath("multiclass"), File("in.csv"), "-o", File("out.csv"), "--keep", "Id", "--reject-file", File("rejects.csv"));
        Assert.AreEqual(0, ok.ExitCode, ok.Error);
        string output = System.IO.File.ReadAllText(File("out.csv"));
        StringAssert.Contains(output, "\n\"Smith, J\",");
        StringAssert.Contains(output, "\n\"say \"\"hi\"\"\",");
        StringAssert.Contains(output, "\n\"two\nlines\",");
        // Header, three rows (one spanning two lines), and the empty piece after the final newline.
        Assert.HasCount(6, output.Split('\n'));
    }

    [TestMethod]
    public void AMissingInputColumnIsNamed()
    {
        System.IO.File.WriteAllText(File("in.csv"), "Id,Features.0,Features.1,Category\nx,1,2,a\n");

        var run = Mldx.Run("score", ScoringFixtures.ModelPath("multiclass"), File("in.csv"), "-o", File("out.csv"));

        Assert.AreEqual(2, run.ExitCode);
        StringAssert.Contains(run.Error, "The model needs column 'Features' (Vector<Single, 5>)");
        StringAssert.Contains(run.Error, "no column 'Features.2'");
    }

    [TestMethod]
    public void AnEmptyFileIsRefused()
    {
        System.IO.File.WriteAllText(File("in.csv"), "");

        var run = Mldx.Run("score", ScoringFixtures.ModelPath("multiclass"), File("in.csv"), "-o", File("out.csv"));

        Assert.AreEqual(2, run.ExitCode);
        StringAssert.Contains(run.Error, "is empty");
    }

    [TestMethod]
    public void AZipThatIsNotAModelIsRefused()
    {
        using (var zip = System.IO.Compression.ZipFile.Open(File("notes.zip"), System.IO.Compression.ZipArchiveMode.Create))
        {
            zip.CreateEntry("readme.txt");
        }

        Mldx.WriteTabularCsv(File("in.csv"), rows: 5);

        var run = Mldx.Run("score", File("notes.zip"), File("in.csv"), "-o", File("out.csv"));
        var text = Mldx.Run("inspect", File("in.csv"));

        Assert.AreEqual(3, run.ExitCode);
        StringAssert.Contains(run.Error, "not an ML.NET model");
        Assert.AreEqual(3, text.ExitCode);
        Assert.DoesNotContain("   at ", text.Error);
    }

    [TestMethod]
    public void AnUnwritableOutputFolderIsRefused()
    {
        Mldx.WriteTabularCsv(File("in.csv"), rows: 5);

        // A path under a file: unwritable whatever the user's rights (tests may run as root).
        var run = Mldx.Run("score", ScoringFixtures.ModelPath("multiclass"), File("in.csv"), "-o", Path.Combine(File("in.csv"), "out.csv"));

        Assert.AreEqual(4, run.ExitCode);
        StringAssert.Contains(run.Error, "Cannot write");
    }

    [TestMethod]
    public void AnExistingOutputIsReplacedOnlyWithForce()
    {
        string model = ScoringFixtures.ModelPath("regression");
        Mldx.WriteTabularCsv(File("in.csv"), rows: 10);
        System.IO.File.WriteAllText(File("out.csv"), "precious");

        var refused = Mldx.Run("score", model, File("in.csv"), "-o", File("out.csv"));
        Assert.AreEqual(4, refused.ExitCode);
        StringAssert.Contains(refused.Error, "already exists; pass --force");
        Assert.AreEqual("precious", System.IO.File.ReadAllText(File("out.csv")));

        var forced = Mldx.Run("score", model, File("in.csv"), "-o", File("out.csv"), "--force");
        Assert.AreEqual(0, forced.ExitCode, forced.Error);
        Assert.StartsWith("Score", System.IO.File.ReadAllText(File("out.csv")));
    }

    [TestMethod]
    public void BadOptionsAreUsageErrors()
    {
        var run = Mldx.Run("score", "m.zip", "in.csv", "-o", "out.csv", "--shard", "3/2");

        Assert.AreEqual(1, run.ExitCode);
        StringAssert.Contains(run.Error, "--shard must be i/n");
    }

    [TestMethod]
    public void AnInterruptedRunLeavesNoFileBehind()
    {
        string model = ScoringFixtures.ModelPath("multiclass");
        Mldx.WriteRepeatedCsv(File("in.csv"), copies: 200);

        // A shell starts the run, waits for its temporary output, and sends SIGTERM as a job
        // scheduler would (Ctrl+C's SIGINT takes the same path; background jobs ignore SIGINT).
        string script = $"dotnet '{Mldx.Path}' score '{model}' '{File("in.csv")}' -o '{File("out.csv")}' -b 1 --threads 1 & pid=$!; "
            + $"n=0; while [ -z \"$(ls -A '{_folder}' | grep partial)\" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n+1)); done; "
            + "kill -TERM $pid; wait $pid; echo \"exit=$?\"";
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var shell = Process.Start(start)!;
        var stderr = shell.StandardError.ReadToEndAsync();
        string stdout = shell.StandardOutput.ReadToEnd();
        Assert.IsTrue(shell.WaitForExit(120_000));

        StringAssert.Contains(stdout, "exit=130", stderr.Result);
        StringAssert.Contains(stderr.Result, "Interrupted; no output was written.");
        Assert.IsFalse(System.IO.File.Exists(File("out.csv")));
        Assert.IsEmpty(Partials());
    }

    [TestMethod]
    public void InspectShowsTheSchemaAndTheLayers()
    {
        var run = Mldx.Run("inspect", ScoringFixtures.ModelPath("cnn"));

        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.Contains(run.Output, "Features");
        StringAssert.Contains(run.Output, "read when scoring");
        StringAssert.Contains(run.Output, "PredictedLabel");
        StringAssert.Contains(run.Output, "Ankle boot");
        StringAssert.Contains(run.Output, "seen by the network as [1, 28, 28]");
        StringAssert.Contains(run.Output, "Conv");
        StringAssert.Contains(run.Output, "parameters");
    }

    [TestMethod]
    public void ExportOnnxWritesACheckedDeployableModel()
    {
        var run = Mldx.Run("export-onnx", ScoringFixtures.ModelPath("multiclass"), "-o", File("model.onnx"));

        Assert.AreEqual(0, run.ExitCode, run.Error);
        DeployableOnnxTests.RunOnnxChecker(System.IO.File.ReadAllBytes(File("model.onnx")));
        var again = Mldx.Run("export-onnx", ScoringFixtures.ModelPath("multiclass"), "-o", File("model.onnx"));
        Assert.AreEqual(4, again.ExitCode);
    }
}
