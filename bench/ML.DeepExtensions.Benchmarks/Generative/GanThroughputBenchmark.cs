using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Generative;

/// <summary>
/// <c>gan-throughput</c>: training images per second of <c>ImageGan.Fit</c> against a hand-written
/// TorchSharp loop over the same two networks (built by the same layer lists), the same losses,
/// optimizers and moving average, on images already in memory. Epoch 1 of each side is a warm-up.
/// </summary>
internal static class GanThroughputBenchmark
{
    private const int Seed = 1;
    private const int NoiseSize = ImageGanDefaults.NoiseSize;

    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Training images per epoch.", DefaultValueFactory = _ => 6400 }.AtLeast(64);
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs per side (after one warm-up epoch).", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var filters = new Option<int>("--base-filters") { Description = "ImageGanOptions.BaseFilters.", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var threads = VisionBenchmarkSetup.ThreadsOption();
        return BenchmarkCommand.Create("gan-throughput",
            "Conditional Fashion-MNIST GAN training images/s: ImageGan.Fit vs a hand-written TorchSharp loop on the same networks.",
            [rows, epochs, filters, threads],
            parse => Run(parse.GetValue(rows), parse.GetValue(epochs), parse.GetValue(filters), parse.GetValue(threads)));
    }

    private static BenchmarkReport Run(int rows, int epochs, int baseFilters, int threads)
    {
        set_num_threads(threads);
        var context = new MLContext(seed: Seed);
        var train = context.Data.Cache(VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows));
        long[] shape = [1, 28, 28];
        int classes = 10;

        var clock = new EpochClock();
        BenchmarkCommand.Progress($"ImageGan.Fit: {rows} images, {epochs + 1} epochs");
        context.Transforms.ImageGan(new ImageGanOptions
        {
            LabelColumnName = "Label", Epochs = epochs + 1, Seed = Seed, BaseFilters = baseFilters, IntraOpThreads = threads, Callbacks = [clock],
        }).Fit(train);
        var library = clock.Seconds.Skip(1).Select(s => rows / 64 * 64 / s).ToList();

        BenchmarkCommand.Progress($"hand-written loop: {rows} images, {epochs + 1} epochs");
        var raw = RawLoop(train, shape, classes, baseFilters, epochs + 1).Skip(1).Select(s => rows / 64 * 64 / s).ToList();

        var table = new ReportTable(("Loop", false), ("Images/s (median)", true), ("Epochs", false));
        table.AddRow("ImageGan.Fit", Statistics.Number(Statistics.Median(library), 0), Statistics.Runs(library, 0));
        table.AddRow("Hand-written TorchSharp loop", Statistics.Number(Statistics.Median(raw), 0), Statistics.Runs(raw, 0));
        return new BenchmarkReport()
            .Paragraph($"Conditional GAN, default networks with base filters {baseFilters}, batch 64, non-saturating loss, Adam 2e-4 β=(0.5, 0.999), EMA, {rows:N0} Fashion-MNIST images per epoch, {threads} libtorch thread(s); epoch 1 of each side is a warm-up.")
            .Table(table)
            .Bullets($"Ratio ImageGan.Fit / hand-written loop: **{Statistics.Ratio(library, raw):F3}** (goal ≥ 0.95)");
    }

    /// <summary>The same step as the library's loop, written out: images in memory, a seeded permutation per epoch.</summary>
    private static List<double> RawLoop(IDataView train, long[] shape, int classes, int baseFilters, int epochs)
    {
        var pixels = train.GetColumn<float[]>("Features").SelectMany(p => p).ToArray();
        var labels = train.GetColumn<uint>("Label").Select(k => (long)k - 1).ToArray();
        int n = labels.Length;
        using var images = (tensor(pixels).reshape(n, 1, 28, 28) * (2.0 / 255)) - 1;
        using var classIndices = tensor(labels);
        TrainingRun.SeedForInitialisation(Seed);
        var generatorLayers = GanArchitectures.DcganGenerator(shape, baseFilters, classes);
        using var generator = NetworkBuilder.BuildLayers(generatorLayers, [NoiseSize + 1], out _);
        using var discriminator = NetworkBuilder.BuildLayers(GanArchitectures.DcganDiscriminator(shape, baseFilters, classes), shape, out _);
        using var average = NetworkBuilder.BuildLayers(generatorLayers, [NoiseSize + 1], out _);
        using var dOptimizer = optim.Adam(discriminator.parameters(), 2e-4, 0.5, 0.999);
        using var gOptimizer = optim.Adam(generator.parameters(), 2e-4, 0.5, 0.999);
        var seconds = new List<double>();
        long step = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var watch = Stopwatch.StartNew();
            generator.train();
            discriminator.train();
            using var generatorRandom = new Generator((ulong)(Seed + epoch));
            using var order = randperm(n, generator: generatorRandom);
            for (int start = 0; start + 64 <= n; start += 64)
            {
                using var scope = NewDisposeScope();
                var index = order.narrow(0, start, 64);
                var real = images.index_select(0, index);
                var label = classIndices.index_select(0, index);
                Tensor fake;
                using (no_grad())
                {
                    fake = generator.forward(Input(64, classes, out _)).detach();
                }

                var realOut = discriminator.forward(real);
                var fakeOut = discriminator.forward(fake);
                var dLoss = nn.functional.softplus(-realOut.select(1, 0)).mean() + nn.functional.softplus(fakeOut.select(1, 0)).mean()
                    + nn.functional.cross_entropy(realOut.narrow(1, 1, classes), label);
                dOptimizer.zero_grad();
                dLoss.backward();
                dOptimizer.step();

                var generated = generator.forward(Input(64, classes, out var fakeLabels));
                var output = discriminator.forward(generated);
                var gLoss = nn.functional.softplus(-output.select(1, 0)).mean() + nn.functional.cross_entropy(output.narrow(1, 1, classes), fakeLabels);
                gOptimizer.zero_grad();
                gLoss.backward();
                gOptimizer.step();
                double decay = Math.Min(ImageGanDefaults.EmaDecay, (1.0 + step) / (10.0 + step));
                using (no_grad())
                {
                    foreach (var (to, from) in average.parameters().Zip(generator.parameters()))
                    {
                        to.mul_(decay).add_(from, alpha: 1 - decay);
                    }

                    foreach (var (to, from) in average.buffers().Zip(generator.buffers()))
                    {
                        to.copy_(from);
                    }
                }

                step++;
            }

            seconds.Add(watch.Elapsed.TotalSeconds);
            BenchmarkCommand.Progress($"hand-written epoch {epoch + 1}: {watch.Elapsed.TotalSeconds:F1} s");
        }

        return seconds;
    }

    private static Tensor Input(long n, int classes, out Tensor fakeLabels)
    {
        var noise = randn(n, NoiseSize);
        fakeLabels = randint(classes, [n], dtype: ScalarType.Int64);
        return cat([noise, fakeLabels.to(ScalarType.Float32).unsqueeze(1)], 1);
    }

    private sealed class EpochClock : ITrainingCallback
    {
        private readonly Stopwatch _watch = new();

        public List<double> Seconds { get; } = [];

        public bool ReadsBatchLogs => false;

        public void OnEpochBegin(TrainingRun run, int epoch) => _watch.Restart();

        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
        {
            Seconds.Add(_watch.Elapsed.TotalSeconds);
            BenchmarkCommand.Progress($"ImageGan epoch {epoch + 1}: {_watch.Elapsed.TotalSeconds:F1} s");
        }
    }
}
