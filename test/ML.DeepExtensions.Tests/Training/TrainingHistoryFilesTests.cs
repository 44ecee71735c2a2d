using System.Buffers.Binary;
using System.Globalization;
using ML.DeepExtensions.Training;
using SkiaSharp;

namespace ML.DeepExtensions.Tests.Training;

[TestClass]
public sealed class TrainingHistoryFilesTests
{
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-history-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    /// <summary>Twelve epochs of a classifier with validation, a one-cycle learning rate and one custom metric.</summary>
    private static TrainingHistory Classifier(int epochs = 12)
    {
        var history = new TrainingHistory();
        for (int e = 0; e < epochs; e++)
        {
            history.Add(new TrainingLogs
            {
                ["loss"] = 2.3 * Math.Exp(-0.3 * e) + 0.1,
                ["accuracy"] = 0.95 - (0.8 * Math.Exp(-0.4 * e)),
                ["val_loss"] = (2.3 * Math.Exp(-0.25 * e)) + 0.2 + (0.01 * e),
                ["val_accuracy"] = 0.9 - (0.75 * Math.Exp(-0.35 * e)),
                ["reward"] = Math.Sin(e),
                ["lr"] = 1e-3 * Math.Min(1, (e + 1) / 4.0) * (e < 4 ? 1 : Math.Cos((e - 4) / 10.0)),
            });
        }

        return history;
    }

    [TestMethod]
    public void TheCsvHasOneRowPerEpochAndAColumnPerMetricWhoseValuesParseBackExactly()
    {
        var history = new TrainingHistory();
        double[] awkward = [Math.PI / 3, 0.1 + 0.2, 1e-300, double.Epsilon, -123456.789e10, double.NaN, double.PositiveInfinity];
        for (int e = 0; e < awkward.Length; e++)
        {
            var logs = new TrainingLogs { ["loss"] = awkward[e], ["lr"] = 1.0 / (e + 3) };
            if (e % 2 == 0)
            {
                logs["val_loss"] = awkward[e] * 2;
            }

            history.Add(logs);
        }

        string path = Path.Combine(_directory, "history.csv");
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE"); // a decimal comma must not leak into the file
        try
        {
            history.SaveCsv(path);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }

        string[] lines = File.ReadAllLines(path);
        Assert.AreEqual("epoch,loss,lr,val_loss", lines[0]);
        Assert.HasCount(awkward.Length + 1, lines);
        string[] header = lines[0].Split(',');
        for (int e = 0; e < awkward.Length; e++)
        {
            string[] cells = lines[e + 1].Split(',');
            Assert.HasCount(header.Length, cells, $"row {e + 1}: {lines[e + 1]}");
            Assert.AreEqual((e + 1).ToString(CultureInfo.InvariantCulture), cells[0]);
            for (int c = 1; c < header.Length; c++)
            {
                if (history.Epochs[e].TryGetValue(header[c], out double expected))
                {
                    double actual = double.Parse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture);
                    Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual), $"{header[c]} of epoch {e + 1}: wrote '{cells[c]}' for {expected:R}");
                }
                else
                {
                    Assert.AreEqual("", cells[c], $"{header[c]} was not logged in epoch {e + 1}");
                }
            }
        }
    }

    [TestMethod]
    public void AMetricNameWithACommaIsQuotedInTheCsvHeader()
    {
        var history = new TrainingHistory();
        history.Add(new TrainingLogs { ["loss"] = 1, ["f1,macro"] = 0.5 });
        string path = Path.Combine(_directory, "quoted.csv");

        history.SaveCsv(path);

        Assert.AreEqual("epoch,loss,\"f1,macro\"", File.ReadAllLines(path)[0]);
    }

    [TestMethod]
    public void ThePlotIsAPngOfTheRequestedSizeWithADrawing()
    {
        string path = Path.Combine(_directory, "history.png");

        Classifier().SavePlot(path, width: 640, height: 480);

        byte[] bytes = File.ReadAllBytes(path);
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8], "PNG signature");
        Assert.AreEqual("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.AreEqual(640, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)), "IHDR width");
        Assert.AreEqual(480, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)), "IHDR height");

        using var bitmap = SKBitmap.Decode(bytes);
        Assert.IsNotNull(bitmap, "the file decodes as an image");
        Assert.AreEqual(640, bitmap.Width);
        Assert.AreEqual(480, bitmap.Height);
        var colours = new HashSet<uint>();
        int background = 0, lossBlue = 0, accuracyOrange = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                colours.Add((uint)pixel);
                if (pixel == bitmap.GetPixel(0, 0))
                {
                    background++;
                }

                lossBlue += Near(pixel, 0x1f, 0x77, 0xb4) ? 1 : 0;
                accuracyOrange += Near(pixel, 0xff, 0x7f, 0x0e) ? 1 : 0;
            }
        }

        double drawn = 1 - ((double)background / (bitmap.Width * bitmap.Height));
        Assert.IsGreaterThan(50, colours.Count, "curves, text and grid give many colours (anti-aliasing)");
        Assert.IsTrue(drawn is > 0.02 and < 0.8, $"{drawn:P1} of the pixels differ from the background");
        Assert.IsGreaterThan(300, lossBlue, "the loss curves are drawn (first palette colour)");
        Assert.IsGreaterThan(300, accuracyOrange, "the accuracy curves are drawn (second palette colour)");
    }

    private static bool Near(SKColor pixel, byte red, byte green, byte blue) =>
        Math.Abs(pixel.Red - red) + Math.Abs(pixel.Green - green) + Math.Abs(pixel.Blue - blue) < 24;

    [TestMethod]
    public void LossAccuracyOtherMetricsAndLearningRateGetTheirOwnPanelsWithValidationBesideTraining()
    {
        var panels = Classifier().PlotPanels();

        Assert.AreEqual("Loss|Accuracy|Other metrics|Learning rate", string.Join("|", panels.Select(p => p.Title)));
        CollectionAssert.AreEqual(new[] { "loss", "val_loss" }, panels[0].Metrics.ToArray());
        CollectionAssert.AreEqual(new[] { "accuracy", "val_accuracy" }, panels[1].Metrics.ToArray());
        CollectionAssert.AreEqual(new[] { "reward" }, panels[2].Metrics.ToArray());
        CollectionAssert.AreEqual(new[] { "lr" }, panels[3].Metrics.ToArray());
    }

    [TestMethod]
    public void AHistoryWithoutLearningRateOrValidationPlotsOnlyWhatItHas()
    {
        var history = new TrainingHistory();
        history.Add(new TrainingLogs { ["loss"] = 0.5, ["val_mse"] = double.NaN });
        history.Add(new TrainingLogs { ["loss"] = 0.4, ["val_mse"] = double.NaN });

        var panels = history.PlotPanels();

        Assert.HasCount(1, panels);
        CollectionAssert.AreEqual(new[] { "loss" }, panels[0].Metrics.ToArray(), "a metric with no finite value is left out");
        history.SavePlot(Path.Combine(_directory, "one-panel.png"), 300, 200);
        Assert.IsTrue(File.Exists(Path.Combine(_directory, "one-panel.png")));
    }

    [TestMethod]
    public void BadArgumentsAreRejectedWithTheReason()
    {
        string missingFolder = Path.Combine(_directory, "no-such-folder", "history.png");
        var history = Classifier(2);

        var folder = Assert.ThrowsExactly<DirectoryNotFoundException>(() => history.SavePlot(missingFolder));
        StringAssert.Contains(folder.Message, "no-such-folder");
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => history.SaveCsv(Path.ChangeExtension(missingFolder, ".csv")));
        var size = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => history.SavePlot(Path.Combine(_directory, "tiny.png"), width: 50));
        Assert.AreEqual("width", size.ParamName);
        var empty = Assert.ThrowsExactly<InvalidOperationException>(() => new TrainingHistory().SavePlot(Path.Combine(_directory, "empty.png")));
        StringAssert.Contains(empty.Message, "no epochs");
    }

    [TestMethod]
    public void AnEmptyHistoryWritesAHeaderOnlyCsv()
    {
        string path = Path.Combine(_directory, "empty.csv");

        new TrainingHistory().SaveCsv(path);

        Assert.AreEqual("epoch\n", File.ReadAllText(path));
    }
}
