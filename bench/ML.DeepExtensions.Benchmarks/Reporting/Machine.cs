using System.Globalization;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>
/// What a figure was measured on. Machines of the same kind differ in CPU model (one run an AMD
/// EPYC, the next an Intel Xeon), so every report names it; the load average tells how much of the
/// noise came from outside the process on a shared machine.
/// </summary>
internal static class Machine
{
    /// <summary>The CPU model from /proc/cpuinfo ("model name"), or "unknown CPU" where there is none.</summary>
    public static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        string? line = File.Exists(path)
            ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
            : null;
        return line?.Split(':', 2)[1].Trim() is { Length: > 0 } model ? model : "unknown CPU";
    }

    /// <summary>For example "2 cores, AMD EPYC 7B13, 23 GiB".</summary>
    public static string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Environment.ProcessorCount} cores, {CpuModel()}, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB");

    /// <summary>The 1-minute load average ("1.93"), or "n/a" where /proc/loadavg is missing.</summary>
    public static string LoadAverage()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path))
        {
            return "n/a";
        }

        string first = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double load)
            ? load.ToString("F2", CultureInfo.InvariantCulture)
            : "n/a";
    }
}
