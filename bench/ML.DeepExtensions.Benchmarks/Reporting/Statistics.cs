using System.Globalization;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>Summary statistics of repeated measurements, formatted the same way in every report.</summary>
internal static class Statistics
{
    /// <summary>The median: robust to the odd slow run on a shared, noisy machine.</summary>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The ratio of two medians, <paramref name="side"/> over <paramref name="baseline"/>.</summary>
    public static double Ratio(IEnumerable<double> side, IEnumerable<double> baseline) => Median(side) / Median(baseline);

    /// <summary>"min-max" of the values with <paramref name="decimals"/> decimals: how far single runs moved.</summary>
    public static string Range(IEnumerable<double> values, int decimals)
    {
        var all = values.ToArray();
        return all.Length == 0 ? "n/a" : $"{Number(all.Min(), decimals)}-{Number(all.Max(), decimals)}";
    }

    /// <summary>Every value in run order ("1460, 1452, 1471"), for a table's rounds column.</summary>
    public static string Runs(IEnumerable<double> values, int decimals) => string.Join(", ", values.Select(v => Number(v, decimals)));

    /// <summary>A number with a fixed number of decimals, culture-independent; NaN prints as n/a.</summary>
    public static string Number(double value, int decimals) =>
        double.IsNaN(value) ? "n/a" : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
