using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>
/// A training process killed with SIGKILL (no chance to clean up) leaves only complete checkpoints,
/// and resuming from them ends exactly as an uninterrupted run (docs/reliability.md). The child is
/// this test assembly itself, running <see cref="ChildTrainsWithCheckpointsUntilKilled"/>; it is
/// killed as soon as its third checkpoint exists, which is not necessarily during a write.
/// </summary>
[TestClass]
public sealed class KillDuringTrainingTests
{
    private const string ChildVariable = "MLDX_KILL_TEST_CHECKPOINTS";
    private const int Epochs = 8;

    [TestMethod]
    public void AKilledRunLeavesOnlyCompleteCheckpointsAndResumesExactly()
    {
        string directory = Directory.CreateTempSubdirectory("mldx-kill-").FullName;
        try
        {
            bool killed = RunChildAndKill(directory, checkpointsBeforeKill: 3);

            Assert.IsTrue(killed, "the child finished before it was killed; the test proved nothing");
            var checkpoints = Directory.GetFiles(directory, "checkpoint-epoch-*.mldx").Order(StringComparer.Ordinal).ToArray();
            Assert.IsGreaterThanOrEqualTo(3, checkpoints.Length);
            float[][] expected = Scores(Fit(checkpoints: null, resume: null, slow: false));
            // Every file under a checkpoint name must be complete: a half-written one would fail its
            // checksum. Resuming from the first and the last shows it (each resume costs a Fit).
            foreach (string checkpoint in new[] { checkpoints[0], checkpoints[^1] })
            {
                var resumed = Scores(Fit(checkpoints: null, resume: checkpoint, slow: false));
                Assert.IsTrue(expected.Zip(resumed).All(p => p.First.SequenceEqual(p.Second)), $"resuming from {Path.GetFileName(checkpoint)} changed the scores");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Not a test of its own: the child process of the test above (skipped otherwise).</summary>
    [TestMethod]
    public void ChildTrainsWithCheckpointsUntilKilled()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) is not { } directory)
        {
            Assert.Inconclusive($"Runs only as the child process of {nameof(AKilledRunLeavesOnlyCompleteCheckpointsAndResumesExactly)}.");
            return;
        }

        Fit(directory, resume: null, slow: true);
    }

    private static bool RunChildAndKill(string directory, int checkpointsBeforeKill)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(KillDuringTrainingTests).Assembly.Location);
        start.ArgumentList.Add("--filter");
        start.ArgumentList.Add($"FullyQualifiedName={typeof(KillDuringTrainingTests).FullName}.{nameof(ChildTrainsWithCheckpointsUntilKilled)}");
        start.Environment[ChildVariable] = directory;
        using var child = Process.Start(start)!;
        _ = child.StandardOutput.ReadToEndAsync();
        _ = child.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (Directory.GetFiles(directory, "checkpoint-epoch-*.mldx").Length < checkpointsBeforeKill)
        {
            if (child.HasExited || clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                return false;
            }

            Thread.Sleep(20);
        }

        // SIGKILL on Linux: no finally block, no flush; a checkpoint being written stays half-written.
        child.Kill(entireProcessTree: true);
        child.WaitForExit();
        return true;
    }

    private static NeuralNetworkTransformer Fit(string? checkpoints, string? resume, bool slow)
    {
        var context = new MLContext(seed: 1);
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, TabularFixtures.Rows(300))).Transform(TabularFixtures.Load(context, TabularFixtures.Rows(300)));
        return context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            HiddenLayers = [16],
            Epochs = Epochs,
            Seed = 5,
            Checkpoints = checkpoints is null ? null : new CheckpointOptions { Directory = checkpoints },
            ResumeFromCheckpoint = resume,
            Callbacks = slow ? [new SlowEpochs()] : [],
        }).Fit(data);
    }

    private static float[][] Scores(NeuralNetworkTransformer model)
    {
        var context = new MLContext(seed: 1);
        return model.Transform(TabularFixtures.Load(context, TabularFixtures.Rows(40, seed: 2))).GetColumn<float[]>("Score").ToArray();
    }

    /// <summary>Leaves time to kill the child between (and during) checkpoint writes; changes nothing the run computes.</summary>
    private sealed class SlowEpochs : ITrainingCallback
    {
        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs) => Thread.Sleep(150);
    }
}
