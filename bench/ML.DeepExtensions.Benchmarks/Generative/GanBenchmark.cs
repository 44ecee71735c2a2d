using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Benchmarks.Generative;

/// <summary>
/// <c>gan</c>: a conditional (or unconditional) GAN on Fashion-MNIST for a time or epoch budget,
/// scored by a classifier this library trains first: the Fréchet distance on its penultimate features
/// (generated vs real test, beside the real-train vs real-test floor) and, for a conditional model,
/// how often it recognises the requested class in the generated images.
/// </summary>
internal static class GanBenchmark
{
    private const int Seed = 1;

    public static Command Create()
    {
        var minutes = new Option<double>("--minutes") { Description = "Training budget of the GAN in minutes (it stops after the step that passes it).", DefaultValueFactory = _ => 18 };
        var epochs = new Option<int>("--epochs") { Description = "Most GAN epochs.", DefaultValueFactory = _ => 30 }.AtLeast(1);
        var rows = new Option<int?>("--rows") { Description = "Use the first N training images (default all 60,000)." };
        var classifierEpochs = new Option<int>("--classifier-epochs") { Description = "Epochs of the feature classifier (LeNet).", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var perClass = new Option<int>("--samples-per-class") { Description = "Generated images per class for the figures.", DefaultValueFactory = _ => 500 }.AtLeast(2);
        var threads = VisionBenchmarkSetup.ThreadsOption();
        var unconditional = new Option<bool>("--unconditional") { Description = "Train an unconditional DCGAN instead of the class-conditional GAN." };
        var loss = new Option<string>("--loss")
        {
            Description = "nonsaturating, hinge, or wgan-gp (WGAN-GP with the paper's settings: 5 critic steps per generator step, Adam 1e-4 β=(0, 0.9) for both, λ = 10, no spectral normalisation).",
            DefaultValueFactory = _ => "nonsaturating",
        }.AcceptOnlyFromAmong("nonsaturating", "hinge", "wgan-gp");
        var filters = new Option<int>("--base-filters") { Description = "ImageGanOptions.BaseFilters of both networks (compute grows with its square).", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var grid = new Option<FileInfo?>("--grid") { Description = "Write the last epoch's sample grid (one class per row) to this PNG." };
        return BenchmarkCommand.Create("gan",
            "Conditional Fashion-MNIST GAN for a time budget: Fréchet distance on a library-trained classifier's features (vs the real-train/real-test floor) and class recognition accuracy.",
            [minutes, epochs, rows, classifierEpochs, perClass, threads, unconditional, loss, filters, grid],
            parse => Run(parse.GetValue(minutes), parse.GetValue(epochs), parse.GetValue(rows), parse.GetValue(classifierEpochs), parse.GetValue(perClass),
                parse.GetValue(threads), !parse.GetValue(unconditional), parse.GetValue(loss) switch { "hinge" => GanLoss.Hinge, "wgan-gp" => GanLoss.WassersteinGradientPenalty, _ => GanLoss.NonSaturating }, parse.GetValue(filters), parse.GetValue(grid)));
    }

    private static BenchmarkReport Run(double minutes, int epochs, int? rows, int classifierEpochs, int perClass, int threads, bool conditional, GanLoss loss, int baseFilters, FileInfo? grid)
    {
        var context = new MLContext(seed: Seed);
        var train = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows);
        var test = VisionBenchmarkSetup.Load(context, FashionMnistSplit.Test);

        BenchmarkCommand.Progress($"feature classifier: LeNet, {classifierEpochs} epochs");
        var classifierClock = Stopwatch.StartNew();
        var classifier = context.MulticlassClassification.Trainers.ImageClassifier(new ImageClassifierOptions
        {
            Architecture = Architectures.LeNet, Epochs = classifierEpochs, Seed = Seed, IntraOpThreads = threads, Data = { BatchSize = 128 },
        }).Fit(train);
        classifierClock.Stop();
        double classifierAccuracy = context.MulticlassClassification.Evaluate(classifier.Transform(test)).MicroAccuracy;
        var featurizer = context.Transforms.FeaturizeByNetwork("Embedding", PretrainedNetwork.FromTransformer(classifier)).Fit(test);

        string gridDirectory = Directory.CreateTempSubdirectory("mldx-gan-bench-").FullName;
        var budget = new TimeBudget(TimeSpan.FromMinutes(minutes));
        bool wasserstein = loss == GanLoss.WassersteinGradientPenalty;
        var paper = new OptimizerOptions { LearningRate = 1e-4, Beta1 = 0.0, Beta2 = 0.9 };
        var options = new ImageGanOptions
        {
            LabelColumnName = conditional ? "Label" : null,
            Epochs = epochs,
            Seed = Seed,
            Loss = loss,
            DiscriminatorSteps = wasserstein ? 5 : 1,
            SpectralNormalization = !wasserstein,
            Optimizer = wasserstein ? paper : new OptimizerOptions { LearningRate = ImageGanDefaults.LearningRate, Beta1 = ImageGanDefaults.Beta1 },
            GeneratorOptimizer = wasserstein ? paper : new OptimizerOptions { LearningRate = ImageGanDefaults.LearningRate, Beta1 = ImageGanDefaults.Beta1 },
            BaseFilters = baseFilters,
            IntraOpThreads = threads,
            Callbacks = [budget],
            SampleGrid = new SampleGridOptions { Directory = gridDirectory, Columns = 10, EveryEpochs = 1 },
            Progress = new Progress<TrainingProgress>(p => BenchmarkCommand.Progress(
                $"GAN epoch {p.Epoch}: d_loss {p.Logs["d_loss"]:F4}, g_loss {p.Logs["g_loss"]:F4}, {p.Elapsed.TotalMinutes:F1} min")),
        };
        BenchmarkCommand.Progress($"GAN: {(conditional ? "conditional" : "unconditional")}, budget {minutes} min or {epochs} epochs");
        var ganClock = Stopwatch.StartNew();
        var gan = context.Transforms.ImageGan(options).Fit(train);
        ganClock.Stop();

        var classes = gan.ClassNames ?? FashionMnist.ClassNames;
        int count = perClass * classes.Count;
        var requested = Enumerable.Range(0, count).Select(i => classes[i % classes.Count]).ToArray();
        var generated = gan.Sample(count, conditional ? requested : null, seed: 2);
        var generatedFeatures = context.Transforms.CopyColumns("Features", "GeneratedImage").Fit(generated).Transform(generated);
        var testSide = context.Data.TakeRows(test, count);
        var trainSide = context.Data.TakeRows(context.Data.ShuffleRows(train, seed: Seed), count);
        double generatedDistance = FrechetDistance.Compute(featurizer.Transform(generatedFeatures), featurizer.Transform(testSide), "Embedding");
        double floor = FrechetDistance.Compute(featurizer.Transform(trainSide), featurizer.Transform(testSide), "Embedding");
        double? recognition = conditional
            ? context.MulticlassClassification.Evaluate(classifier.Transform(generatedFeatures)).MicroAccuracy
            : null;

        var last = Directory.GetFiles(gridDirectory, "samples-epoch-*.png").Order(StringComparer.Ordinal).LastOrDefault();
        if (grid is not null && last is not null)
        {
            File.Copy(last, grid.FullName, overwrite: true);
            BenchmarkCommand.Progress($"sample grid written to {grid.FullName}");
        }

        Directory.Delete(gridDirectory, recursive: true);
        var table = new ReportTable(("Figure", false), ("Value", true));
        table.AddRow("Fréchet distance, generated vs real test (classifier features)", Statistics.Number(generatedDistance, 2));
        table.AddRow("Fréchet distance floor, real train vs real test", Statistics.Number(floor, 2));
        if (recognition is double accuracy)
        {
            table.AddRow("Requested class recognised by the classifier", accuracy.ToString("P1", CultureInfo.InvariantCulture));
        }

        table.AddRow("Feature classifier's test accuracy", classifierAccuracy.ToString("P2", CultureInfo.InvariantCulture));
        table.AddRow("GAN epochs trained (the last may be cut by the budget)", gan.History.Epochs.Count.ToString(CultureInfo.InvariantCulture));
        table.AddRow("GAN Fit minutes (includes the ONNX export)", Statistics.Number(ganClock.Elapsed.TotalMinutes, 1));
        return new BenchmarkReport()
            .Paragraph($"{(conditional ? "Class-conditional GAN (label embedding in the generator, auxiliary classifier in the discriminator)" : "Unconditional DCGAN")} with the default networks (GanArchitectures.Dcgan*, base filters {baseFilters}, {loss} loss, batch 64, {(wasserstein ? "5 critic steps per generator step, Adam 1e-4 β=(0, 0.9), λ = 10, no spectral normalisation" : "Adam 2e-4 β=(0.5, 0.999), spectral normalisation in the discriminator")}, EMA 0.999), {(rows is int n ? n.ToString("N0", CultureInfo.InvariantCulture) : "60,000")} training images, budget {minutes} min or {epochs} epochs, seed {Seed}, {threads} libtorch thread(s).")
            .Paragraph($"Figures on {count:N0} generated images ({perClass} per class) and {count:N0} real images per side. The Fréchet distance uses the 84-unit penultimate layer of a LeNet this library trained on Fashion-MNIST for {classifierEpochs} epochs ({classifierClock.Elapsed.TotalMinutes:F1} min); it is not comparable with Inception-based FID.")
            .Table(table);
    }

    /// <summary>Stops training after the step that passes the budget.</summary>
    private sealed class TimeBudget(TimeSpan budget) : ITrainingCallback
    {
        private readonly Stopwatch _clock = new();

        public bool ReadsBatchLogs => false;

        public void OnTrainBegin(TrainingRun run) => _clock.Start();

        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
        {
            if (_clock.Elapsed > budget)
            {
                run.StopTraining = true;
            }
        }
    }
}
