namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>Summary statistics of repeated measurements.</summary>
internal static class Statistics
{
    /// <summary>The median: robust to the odd slow run on a shared, noisy machine.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException("No values.", nameof(values));
        }

        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
