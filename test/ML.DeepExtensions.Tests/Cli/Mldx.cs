using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace ML.DeepExtensions.Tests.Cli;

/// <summary>Runs the mldx tool (tools/ML.DeepExtensions.Cli) as a separate process, as a user would.</summary>
internal static class Mldx
{
    public static readonly string Path = typeof(Mldx).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MldxPath").Value!;

    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args) => Run(null, args);

    public static Result Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Start(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(120_000), "mldx did not finish in time");
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>A CSV for the tabular fixtures' models: Id, Features.0..4, Category.</summary>
    public static void WriteTabularCsv(string path, int rows, int seed = 9, Func<int, string?>? corrupt = null)
    {
        var data = Tabular.TabularFixtures.Rows(rows, seed);
        var text = new StringBuilder("Id,Features.0,Features.1,Features.2,Features.3,Features.4,Category\n");
        for (int i = 0; i < data.Count; i++)
        {
            text.Append(corrupt?.Invoke(i) ?? string.Create(CultureInfo.InvariantCulture,
                $"id{i},{string.Join(',', data[i].Features.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))},{data[i].Category}"));
            text.Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    /// <summary>A large CSV quickly: the 1,000 rows of <see cref="WriteTabularCsv"/> repeated (ids stay unique).</summary>
    public static void WriteRepeatedCsv(string path, int copies)
    {
        string sample = path + ".sample";
        WriteTabularCsv(sample, rows: 1000);
        var lines = File.ReadAllLines(sample);
        File.Delete(sample);
        using var writer = new StreamWriter(path);
        writer.Write(lines[0] + "\n");
        for (int copy = 0; copy < copies; copy++)
        {
            for (int i = 1; i < lines.Length; i++)
            {
                writer.Write($"{copy}-{lines[i]}\n");
            }
        }
    }

    /// <summary>Reads a CSV written by mldx: header and rows split on commas (the fixtures need no quoting).</summary>
    public static (List<string> Header, List<string[]> Rows) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        return (lines[0].Split(',').ToList(), lines.Skip(1).Select(l => l.Split(',')).ToList());
    }
}
