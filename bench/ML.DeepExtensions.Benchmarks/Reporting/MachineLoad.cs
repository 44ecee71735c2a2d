using System.Globalization;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>
/// The 1-minute load average, recorded before and after a benchmark: on a machine shared with other
/// work, it tells how much of a number's noise came from outside the process.
/// </summary>
internal static class MachineLoad
{
    public static string Current()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path))
        {
            return "n/a";
        }

        string first = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double load)
            ? $"{load.ToString("F2", CultureInfo.InvariantCulture)} on {Environment.ProcessorCount} cores"
            : "n/a";
    }
}
