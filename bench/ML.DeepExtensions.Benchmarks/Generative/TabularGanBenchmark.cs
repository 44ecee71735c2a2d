using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Generative;

namespace ML.DeepExtensions.Benchmarks.Generative;

/// <summary>
/// <c>tabular-gan</c>: train on synthetic, test on real. For breast_cancer, wine and digits, a
/// LightGbm classifier trained on the real training rows and one trained on as many rows sampled from
/// a tabular GAN fitted to them are both tested on the real held-out rows; plus per-column distances
/// between synthetic and real training rows (Kolmogorov–Smirnov for numbers, total variation for the label).
/// </summary>
internal static class TabularGanBenchmark
{
    private const int Seed = 1;

    public static Command Create()
    {
        var epochs = new Option<int>("--epochs") { Description = "Tabular GAN epochs.", DefaultValueFactory = _ => 300 }.AtLeast(1);
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var datasets = new Option<string[]>("--datasets") { Description = "Only these data sets (breast_cancer, wine, digits).", AllowMultipleArgumentsPerToken = true };
        return BenchmarkCommand.Create("tabular-gan",
            "Tabular GAN: LightGbm trained on synthetic rows vs on real rows, both tested on real held-out rows; per-column distribution distances.",
            [epochs, threads, datasets],
            parse => Run(parse.GetValue(epochs), parse.GetValue(threads), parse.GetValue(datasets) ?? []));
    }

    private static BenchmarkReport Run(int epochs, int threads, string[] only)
    {
        var table = new ReportTable(("Data set", false), ("Train rows", true), ("Real → real accuracy", true), ("Synthetic → real accuracy", true),
            ("Mean KS statistic", true), ("Label TV distance", true), ("GAN minutes", true));
        foreach (var dataset in new[] { SklearnDataset.BreastCancer, SklearnDataset.Wine, SklearnDataset.Digits }.Where(d => only.Length == 0 || only.Contains(d.Name)))
        {
            var context = new MLContext(seed: Seed);
            var (data, file) = Columns(context, dataset);
            var split = context.Data.TrainTestSplit(data, testFraction: 0.25, seed: Seed);
            var train = context.Data.Cache(split.TrainSet);
            var names = Enumerable.Range(0, dataset.FeatureCount).Select(i => $"F{i}").ToArray();
            var classes = context.Data.LoadFromEnumerable(data.GetColumn<string>("Label").Distinct().Order(StringComparer.Ordinal).Select(l => new LabelRow { Label = l }));
            double real = Accuracy(context, train, split.TestSet, names, classes);

            BenchmarkCommand.Progress($"{dataset.Name}: tabular GAN, {epochs} epochs");
            var clock = Stopwatch.StartNew();
            var gan = context.Transforms.TabularGan(new TabularGanOptions
            {
                NumericColumns = names, CategoricalColumns = ["Label"], Epochs = epochs, Seed = Seed, IntraOpThreads = threads,
                BatchSize = 500,
            }).Fit(train);
            clock.Stop();
            int rows = (int)(train.GetRowCount() ?? train.GetColumn<string>("Label").Count());
            var synthetic = gan.Sample(rows, seed: 2);
            double fake = Accuracy(context, synthetic, split.TestSet, names, classes);
            double ks = names.Average(n => KolmogorovSmirnov(train.GetColumn<float>(n).ToArray(), synthetic.GetColumn<float>(n).ToArray()));
            double tv = TotalVariation(train.GetColumn<string>("Label").ToArray(), synthetic.GetColumn<string>("Label").ToArray());
            table.AddRow(dataset.Name, rows.ToString(CultureInfo.InvariantCulture), real.ToString("P1", CultureInfo.InvariantCulture), fake.ToString("P1", CultureInfo.InvariantCulture),
                Statistics.Number(ks, 3), Statistics.Number(tv, 3), Statistics.Number(clock.Elapsed.TotalMinutes, 1));
            File.Delete(file);
        }

        return new BenchmarkReport()
            .Paragraph($"75/25 split with seed {Seed}; LightGbm multiclass with defaults; the GAN (TabularGanOptions defaults: EM mixture of up to 10 modes per column, batch 500, hidden 256, Adam 2e-4 β=(0.5, 0.9)) is fitted to the training rows for {epochs} epochs and sampled to as many rows; {threads} libtorch thread(s).")
            .Table(table);
    }

    private static double Accuracy(MLContext context, IDataView train, IDataView test, string[] names, IDataView classes)
    {
        var pipeline = context.Transforms.Concatenate("Features", names)
            .Append(context.Transforms.Conversion.MapValueToKey("Label", keyData: classes))
            .Append(context.MulticlassClassification.Trainers.LightGbm());
        var model = pipeline.Fit(train);
        return context.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
    }

    /// <summary>The data set as scalar Single columns F0.. and a String label (the class number).</summary>
    private static (IDataView Data, string File) Columns(MLContext context, SklearnDataset dataset)
    {
        var loaded = dataset.Load(context);
        var features = loaded.GetColumn<float[]>("Features").ToArray();
        var labels = loaded.GetColumn<float>("Label").ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"mldx-tabular-gan-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, features.Zip(labels, (f, l) =>
            string.Join(',', f.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "," + l.ToString(CultureInfo.InvariantCulture)));
        var columns = Enumerable.Range(0, dataset.FeatureCount).Select(i => new TextLoader.Column($"F{i}", DataKind.Single, i))
            .Append(new TextLoader.Column("Label", DataKind.String, dataset.FeatureCount)).ToArray();
        // The file is read lazily; the caller deletes it when done with the data set.
        return (context.Data.LoadFromTextFile(path, new TextLoader.Options { Separators = [','], Columns = columns }), path);
    }

    private static double KolmogorovSmirnov(float[] first, float[] second)
    {
        var a = first.Order().ToArray();
        var b = second.Order().ToArray();
        int i = 0, j = 0;
        double best = 0;
        while (i < a.Length && j < b.Length)
        {
            float x = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] <= x)
            {
                i++;
            }

            while (j < b.Length && b[j] <= x)
            {
                j++;
            }

            best = Math.Max(best, Math.Abs(((double)i / a.Length) - ((double)j / b.Length)));
        }

        return best;
    }

    private static double TotalVariation(string[] first, string[] second) =>
        0.5 * first.Concat(second).Distinct().Sum(c => Math.Abs((first.Count(x => x == c) / (double)first.Length) - (second.Count(x => x == c) / (double)second.Length)));

    private sealed class LabelRow
    {
        public string Label { get; set; } = "";
    }
}
