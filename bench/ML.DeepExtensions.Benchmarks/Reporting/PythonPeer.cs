using System.Diagnostics;
using System.Text.Json;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>Runs one of the PyTorch peer scripts in bench/pytorch, which print <c>{"images_per_second": ...}</c>.</summary>
internal static class PythonPeer
{
    /// <summary>The script's images (or sequences) per second; null, after printing why, when the script fails.</summary>
    public static double? ImagesPerSecond(string python, string script, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(Vision.VisionBenchmarkSetup.RepositoryRoot(), "bench", "pytorch", script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            BenchmarkCommand.Progress($"PyTorch peer {script} failed: {errors.Result}");
            return null;
        }

        return JsonDocument.Parse(output).RootElement.GetProperty("images_per_second").GetDouble();
    }
}
