using System.Diagnostics;
using System.Reflection;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>
/// Custom loops on <see cref="ML.DeepExtensions.Training.TrainingRun"/>, run in a child process
/// (test/ML.DeepExtensions.TrainingChild): killed with SIGKILL mid-run and resumed from the last step
/// checkpoint, they end with the same weights, bit for bit, and the same logs as an uninterrupted run.
/// </summary>
[TestClass]
public sealed class KillAndResumeTests
{
    private static readonly string ChildPath = typeof(KillAndResumeTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TrainingChildPath").Value!;

    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-kill-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    [DataRow("adversarial", DisplayName = "two networks, two optimizers on two schedules")]
    [DataRow("steps", DisplayName = "step-driven, no data source, replay buffer state")]
    public void AKilledRunResumesToTheSameWeightsAndLogs(string mode)
    {
        string uninterrupted = Path.Combine(_directory, "uninterrupted.json");
        Run(mode, Folder("full"), uninterrupted);

        string killedFolder = Folder("killed");
        using (var child = Start(mode, killedFolder, Path.Combine(_directory, "never.json"), "--hang-after", "25"))
        {
            string? line = child.StandardOutput.ReadLine();
            Assert.AreEqual("READY", line, $"the child did not reach step 25: {child.StandardError.ReadToEnd()}");
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }

        Assert.IsFalse(File.Exists(Path.Combine(_directory, "never.json")), "the killed child must not have finished");
        CollectionAssert.AreEquivalent(
            new[] { "checkpoint-step-00000010.mldx", "checkpoint-step-00000020.mldx" },
            Directory.GetFiles(killedFolder).Select(Path.GetFileName).ToArray(),
            "steps 10 and 20 were checkpointed before the kill at step 25, and no partial file is left");

        string resumed = Path.Combine(_directory, "resumed.json");
        Run(mode, killedFolder, resumed, "--resume", Path.Combine(killedFolder, "checkpoint-step-00000020.mldx"));

        string expected = File.ReadAllText(uninterrupted);
        StringAssert.Contains(expected, "\"Steps\":40");
        Assert.AreEqual(expected, File.ReadAllText(resumed), "weights (as bits) and history after resume must equal the uninterrupted run's");
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;

    private static void Run(string mode, string folder, string output, params string[] extra)
    {
        using var child = Start(mode, folder, output, extra);
        string errors = child.StandardError.ReadToEnd();
        Assert.IsTrue(child.WaitForExit(TimeSpan.FromMinutes(2)), "the child run timed out");
        Assert.AreEqual(0, child.ExitCode, errors);
    }

    private static Process Start(string mode, string folder, string output, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { ChildPath, mode, folder, output }.Concat(extra))
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the training child");
    }
}
