using System.Globalization;
using System.Text;
using ScottPlot;

namespace ML.DeepExtensions.Training;

// Writing the history out: a CSV of every metric and a PNG plot of the curves.
public sealed partial class TrainingHistory
{
    /// <summary>Smallest width or height <see cref="SavePlot"/> accepts: below it axes and legends no longer fit.</summary>
    public const int MinimumPlotSize = 200;

    /// <summary>
    /// Writes one row per epoch to a CSV file: an <c>epoch</c> column (1-based), then one column per
    /// metric in the order the metrics first appear (<c>loss</c>, <c>accuracy</c>, <c>val_loss</c>,
    /// ..., <c>lr</c>). Numbers use the invariant culture and the shortest text that parses back to
    /// the same <see cref="double"/>; an epoch that did not log a metric leaves its cell empty.
    /// </summary>
    /// <param name="path">The file to write (replaced if it exists); its folder must exist.</param>
    /// <example>
    /// <code>
    /// var model = trainer.Fit(data);
    /// model.History.SaveCsv("history.csv");   // epoch,loss,accuracy,val_loss,val_accuracy,lr
    /// </code>
    /// </example>
    public void SaveCsv(string path)
    {
        string fullPath = CheckOutputPath(path);
        var metrics = MetricNames();
        var text = new StringBuilder();
        text.Append("epoch");
        foreach (string metric in metrics)
        {
            text.Append(',').Append(CsvField(metric));
        }

        text.Append('\n');
        for (int epoch = 0; epoch < _epochs.Count; epoch++)
        {
            text.Append((epoch + 1).ToString(CultureInfo.InvariantCulture));
            foreach (string metric in metrics)
            {
                text.Append(',');
                if (_epochs[epoch].TryGetValue(metric, out double value))
                {
                    text.Append(value.ToString("R", CultureInfo.InvariantCulture));
                }
            }

            text.Append('\n');
        }

        File.WriteAllText(fullPath, text.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    /// <summary>
    /// Draws the metric curves against the epoch and saves them as a PNG image of
    /// <paramref name="width"/> × <paramref name="height"/> pixels. Loss-like metrics (names with
    /// <c>loss</c>, <c>error</c>, <c>mse</c>, <c>mae</c>, <c>rmse</c>) share one panel, accuracy-like
    /// ones (<c>accuracy</c>, <c>auc</c>, <c>f1</c>, <c>precision</c>, <c>recall</c>, <c>r2</c>)
    /// another, any other metric a third, and the learning rate (<c>lr</c>) its own; panels without
    /// data are left out. A validation curve (<c>val_</c> prefix) is drawn dashed in the colour of its
    /// training curve, in the same panel.
    /// </summary>
    /// <param name="path">The PNG file to write (replaced if it exists); its folder must exist.</param>
    /// <param name="width">Image width in pixels, at least <see cref="MinimumPlotSize"/>.</param>
    /// <param name="height">Image height in pixels, at least <see cref="MinimumPlotSize"/>.</param>
    /// <exception cref="InvalidOperationException">The history has no epoch with a finite metric value to draw.</exception>
    /// <example>
    /// <code>
    /// var model = trainer.Fit(data);
    /// model.History.SavePlot("history.png");
    /// </code>
    /// </example>
    public void SavePlot(string path, int width = 800, int height = 600)
    {
        string fullPath = CheckOutputPath(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, MinimumPlotSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, MinimumPlotSize);
        var panels = PlotPanels();
        if (panels.Count == 0)
        {
            throw new InvalidOperationException(_epochs.Count == 0
                ? "The training history has no epochs to plot; call SavePlot after at least one epoch."
                : "The training history has no finite metric value to plot.");
        }

        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        if (panels.Count > 2)
        {
            multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: 2);
        }

        var palette = new ScottPlot.Palettes.Category10();
        var colours = new Dictionary<string, Color>(StringComparer.Ordinal);
        for (int i = 0; i < panels.Count; i++)
        {
            var plot = multiplot.GetPlot(i);
            plot.Title(panels[i].Title, size: 14);
            plot.XLabel("epoch", size: 12);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            foreach (string metric in panels[i].Metrics)
            {
                string baseName = BaseName(metric);
                if (!colours.TryGetValue(baseName, out var colour))
                {
                    colour = palette.GetColor(colours.Count);
                    colours.Add(baseName, colour);
                }

                var values = this[metric];
                var points = Enumerable.Range(0, values.Count).Where(e => double.IsFinite(values[e])).ToArray();
                var line = plot.Add.Scatter(points.Select(e => (double)(e + 1)).ToArray(), points.Select(e => values[e]).ToArray(), colour);
                line.LegendText = metric;
                line.LineWidth = 2;
                line.MarkerSize = points.Length <= 30 ? 5 : 0;
                if (metric.StartsWith(TrainingLogs.ValidationPrefix, StringComparison.Ordinal))
                {
                    line.LinePattern = LinePattern.Dashed;
                }
            }

            // Accuracy-like curves climb towards the upper right, where the legend would hide them.
            plot.ShowLegend(panels[i].Title == PanelTitle(Panel.Accuracy) ? Alignment.LowerRight : Alignment.UpperRight);
        }

        multiplot.SavePng(fullPath, width, height);
    }

    /// <summary>
    /// The panels <see cref="SavePlot"/> draws, in order, each with its metrics: training curves first,
    /// then their validation curves; metrics with no finite value are left out.
    /// </summary>
    internal IReadOnlyList<(string Title, IReadOnlyList<string> Metrics)> PlotPanels() => MetricNames()
        .Where(metric => this[metric].Any(double.IsFinite))
        .GroupBy(PanelOf)
        .OrderBy(group => group.Key)
        .Select(group => (PanelTitle(group.Key), (IReadOnlyList<string>)group
            .OrderBy(m => m.StartsWith(TrainingLogs.ValidationPrefix, StringComparison.Ordinal)).ToArray()))
        .ToList();

    /// <summary>Every metric name in the order it first appears across epochs.</summary>
    private List<string> MetricNames()
    {
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var epoch in _epochs)
        {
            foreach (string name in epoch.Keys)
            {
                if (seen.Add(name))
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }

    private enum Panel
    {
        Loss,
        Accuracy,
        Other,
        LearningRate,
    }

    private static string BaseName(string metric) =>
        metric.StartsWith(TrainingLogs.ValidationPrefix, StringComparison.Ordinal) ? metric[TrainingLogs.ValidationPrefix.Length..] : metric;

    private static readonly string[] LossWords = ["loss", "error", "mse", "mae", "rmse"];

    private static readonly string[] AccuracyWords = ["acc", "auc", "f1", "precision", "recall", "r2"];

    private static Panel PanelOf(string metric)
    {
        string name = BaseName(metric).ToLowerInvariant();
        return name == TrainingLogs.LearningRate ? Panel.LearningRate
            : LossWords.Any(name.Contains) ? Panel.Loss
            : AccuracyWords.Any(name.Contains) ? Panel.Accuracy
            : Panel.Other;
    }

    private static string PanelTitle(Panel panel) => panel switch
    {
        Panel.Loss => "Loss",
        Panel.Accuracy => "Accuracy",
        Panel.LearningRate => "Learning rate",
        _ => "Other metrics",
    };

    // RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    private static string CsvField(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string CheckOutputPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(fullPath);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Cannot write '{fullPath}': the folder '{directory}' does not exist.");
        }

        return fullPath;
    }
}
