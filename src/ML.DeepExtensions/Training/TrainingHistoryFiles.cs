using System.Globalization;
using System.Text;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;
using SkiaSharp;

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

        // One plot model per panel, drawn side by side (two columns when there are more than two) on one bitmap.
        int columns = panels.Count > 2 ? 2 : 1, rows = (panels.Count + columns - 1) / columns;
        int panelWidth = width / columns, panelHeight = height / rows;
        var colours = new Dictionary<string, OxyColor>(StringComparer.Ordinal);
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        using (var context = new SkiaRenderContext { RenderTarget = RenderTarget.PixelGraphic, SkCanvas = canvas, UseTextShaping = false })
        {
            canvas.Clear(SKColors.White);
            for (int i = 0; i < panels.Count; i++)
            {
                IPlotModel model = PanelModel(panels[i].Title, panels[i].Metrics, colours);
                canvas.Save();
                canvas.Translate(i % columns * panelWidth, i / columns * panelHeight);
                model.Update(true);
                model.Render(context, new OxyRect(0, 0, panelWidth, panelHeight));
                canvas.Restore();
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(fullPath);
        png.SaveTo(file);
    }

    // Category10, the usual palette of training-curve plots: a metric and its val_ twin share one colour.
    private static readonly OxyColor[] Palette = new[] { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }
        .Select(OxyColor.Parse).ToArray();

    private PlotModel PanelModel(string title, IReadOnlyList<string> metrics, Dictionary<string, OxyColor> colours)
    {
        var model = new PlotModel { Title = title, TitleFontSize = 14, Background = OxyColors.White, PlotAreaBorderColor = OxyColors.Gray };
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Bottom,
            Title = "epoch",
            MinimumMajorStep = 1,
            MinimumMinorStep = 1,
            MinimumPadding = 0.03,
            MaximumPadding = 0.03,
            MajorGridlineStyle = LineStyle.Dot,
            MajorGridlineColor = OxyColors.LightGray,
        });
        var values = new LinearAxis
        {
            Position = AxisPosition.Left,
            MinimumPadding = 0.05,
            MaximumPadding = 0.05,
            MajorGridlineStyle = LineStyle.Dot,
            MajorGridlineColor = OxyColors.LightGray,
        };
        model.Axes.Add(values);

        var finite = new List<double>();
        foreach (string metric in metrics)
        {
            string baseName = BaseName(metric);
            if (!colours.TryGetValue(baseName, out var colour))
            {
                colour = Palette[colours.Count % Palette.Length];
                colours.Add(baseName, colour);
            }

            var series = this[metric];
            var line = new LineSeries
            {
                Title = metric,
                Color = colour,
                StrokeThickness = 2,
                LineStyle = metric.StartsWith(TrainingLogs.ValidationPrefix, StringComparison.Ordinal) ? LineStyle.Dash : LineStyle.Solid,
                MarkerType = series.Count <= 30 ? MarkerType.Circle : MarkerType.None,
                MarkerSize = 3,
                MarkerFill = colour,
            };
            for (int epoch = 0; epoch < series.Count; epoch++)
            {
                if (double.IsFinite(series[epoch]))
                {
                    line.Points.Add(new DataPoint(epoch + 1, series[epoch]));
                    finite.Add(series[epoch]);
                }
            }

            model.Series.Add(line);
        }

        // A constant curve (a fixed learning rate) gets a range around its value, not a degenerate axis.
        if (finite.Max() - finite.Min() <= 1e-12 * Math.Max(1, Math.Abs(finite.Max())))
        {
            double value = finite[0], pad = value == 0 ? 1 : Math.Abs(value) * 0.5;
            (values.Minimum, values.Maximum) = (value - pad, value + pad);
        }

        // Below the panel, in one row: inside the plot area a legend would hide some curve's end.
        model.Legends.Add(new Legend
        {
            LegendPlacement = LegendPlacement.Outside,
            LegendPosition = LegendPosition.BottomCenter,
            LegendOrientation = LegendOrientation.Horizontal,
            LegendPadding = 2,
            LegendMargin = 2,
        });
        return model;
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
