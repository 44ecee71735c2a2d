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
/// optimizers and moving average, on images already in memory, and against PyTorch 1.13 training the
/// same networks (bench/pytorch/gan_throughput.py). The sides are interleaved epoch by epoch: a
/// callback in the library's Fit runs one epoch of each other side between two of its epochs (before
/// the library's epoch in odd rounds, after it in even ones), so a change in the machine's load hits
/// all sides of a round alike. Round 1 is a warm-up; the figures are per-round ratios and their median.
/// </summary>
internal static class GanThroughputBenchmark
{
    private const int Seed = 1;
    private const int NoiseSize = ImageGanDefaults.NoiseSize;
    private const int Batch = 64;

    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Training images per epoch.", DefaultValueFactory = _ => 6400 }.AtLeast(Batch);
        var rounds = VisionBenchmarkSetup.RoundsOption();
        var filters = new Option<int>("--base-filters") { Description = "ImageGanOptions.BaseFilters.", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var threads = VisionBenchmarkSetup.ThreadsOption();
        var python = new Option<string?>("--python") { Description = "Python with Debian's python3-torch for the PyTorch side (/usr/bin/python3); 'none' to leave it out.", DefaultValueFactory = _ => "/usr/bin/python3" };
        return BenchmarkCommand.Create("gan-throughput",
            "Conditional Fashion-MNIST GAN training images/s, interleaved epoch by epoch: ImageGan.Fit vs a hand-written TorchSharp loop and PyTorch 1.13 on the same networks.",
            [rows, rounds, filters, threads, python],
            parse => Run(parse.GetValue(rows), parse.GetValue(rounds), parse.GetValue(filters), parse.GetValue(threads), parse.GetValue(python) is { } p && p != "none" ? p : null));
    }

    private static BenchmarkReport Run(int rows, int rounds, int baseFilters, int threads, string? python)
    {
        set_num_threads(threads);
        var context = new MLContext(seed: Seed);
        var train = context.Data.Cache(VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train, rows));
        long[] shape = [1, 28, 28];
        int classes = 10;
        double imagesPerEpoch = rows / Batch * Batch;

        using var raw = new HandWrittenLoop(train, shape, classes, baseFilters);
        using var pytorch = python is null ? null : new PyTorchSide(python, rows, baseFilters, threads);
        var clock = new RoundClock(raw, pytorch);
        BenchmarkCommand.Progress($"{rounds + 1} rounds of one epoch per side ({rows} images){(pytorch is null ? "" : ", PyTorch included")}");
        using (context.Transforms.ImageGan(new ImageGanOptions
        {
            LabelColumnName = "Label", Epochs = rounds + 1, Seed = Seed, BaseFilters = baseFilters, IntraOpThreads = threads, Callbacks = [clock],
        }).Fit(train))
        {
        }

        var ours = clock.Library.Skip(1).Select(s => imagesPerEpoch / s).ToList();
        var hand = clock.HandWritten.Skip(1).Select(s => imagesPerEpoch / s).ToList();
        var torchSide = clock.PyTorch.Skip(1).Select(s => imagesPerEpoch / s).ToList();
        var toHand = ours.Zip(hand, (a, b) => a / b).ToList();
        var toTorch = ours.Zip(torchSide, (a, b) => a / b).ToList();

        var table = pytorch is null
            ? new ReportTable(("Round", false), ("ImageGan.Fit images/s", true), ("Hand-written loop images/s", true), ("Ratio", true))
            : new ReportTable(("Round", false), ("ImageGan.Fit images/s", true), ("Hand-written loop images/s", true), ("PyTorch 1.13 images/s", true), ("Ratio to hand-written", true), ("Ratio to PyTorch", true));
        for (int i = 0; i < ours.Count; i++)
        {
            string round = (i + 2).ToString(CultureInfo.InvariantCulture) + (i % 2 == 0 ? " (others first)" : " (ours first)");
            if (pytorch is null)
            {
                table.AddRow(round, Statistics.Number(ours[i], 0), Statistics.Number(hand[i], 0), Statistics.Number(toHand[i], 3));
            }
            else
            {
                table.AddRow(round, Statistics.Number(ours[i], 0), Statistics.Number(hand[i], 0), Statistics.Number(torchSide[i], 0), Statistics.Number(toHand[i], 3), Statistics.Number(toTorch[i], 3));
            }
        }

        var report = new BenchmarkReport()
            .Paragraph($"Conditional GAN, default networks with base filters {baseFilters}, batch {Batch}, non-saturating loss, Adam 2e-4 β=(0.5, 0.999), EMA, {rows:N0} Fashion-MNIST images per epoch, {threads} libtorch thread(s). Interleaved: {rounds + 1} rounds of one epoch per side, round 1 a warm-up (not shown).")
            .Table(table);
        return pytorch is null
            ? report.Bullets($"Median per-round ratio ImageGan.Fit / hand-written loop: **{Statistics.Median(toHand):F3}** (goal ≥ 0.95)")
            : report.Bullets(
                $"Median per-round ratio ImageGan.Fit / hand-written loop: **{Statistics.Median(toHand):F3}** (goal ≥ 0.95)",
                $"Median per-round ratio ImageGan.Fit / PyTorch 1.13: **{Statistics.Median(toTorch):F3}**");
    }

    /// <summary>Times the library's epochs and runs one epoch of each other side between them, alternating before and after.</summary>
    private sealed class RoundClock(HandWrittenLoop raw, PyTorchSide? pytorch) : ITrainingCallback
    {
        private readonly Stopwatch _watch = new();

        public List<double> Library { get; } = [];

        public List<double> HandWritten { get; } = [];

        public List<double> PyTorch { get; } = [];

        public bool ReadsBatchLogs => false;

        public void OnEpochBegin(TrainingRun run, int epoch)
        {
            if (epoch % 2 == 1)
            {
                RunOthers(epoch);
            }

            _watch.Restart();
        }

        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
        {
            Library.Add(_watch.Elapsed.TotalSeconds);
            BenchmarkCommand.Progress($"round {epoch + 1}: ImageGan epoch {_watch.Elapsed.TotalSeconds:F1} s");
            if (epoch % 2 == 0)
            {
                RunOthers(epoch);
            }
        }

        private void RunOthers(int epoch)
        {
            // The library's loop reseeds libtorch every epoch, so the hand-written side's random draws do not change it.
            HandWritten.Add(raw.Epoch());
            BenchmarkCommand.Progress($"round {epoch + 1}: hand-written epoch {HandWritten[^1]:F1} s");
            if (pytorch is not null)
            {
                PyTorch.Add(pytorch.Epoch());
                BenchmarkCommand.Progress($"round {epoch + 1}: PyTorch epoch {PyTorch[^1]:F1} s");
            }
        }
    }

    /// <summary>bench/pytorch/gan_throughput.py kept running: one line "epoch" in, its seconds out.</summary>
    private sealed class PyTorchSide : IDisposable
    {
        private readonly Process _process;

        public PyTorchSide(string python, int rows, int baseFilters, int threads)
        {
            string script = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), "bench", "pytorch", "gan_throughput.py");
            var start = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false };
            foreach (var argument in new[]
            {
                script, "--data", VisionBenchmarkSetup.DataDirectory(), "--rows", rows.ToString(CultureInfo.InvariantCulture),
                "--base-filters", baseFilters.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture),
            })
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {python}.");
            string? ready = _process.StandardOutput.ReadLine();
            if (ready != "ready")
            {
                throw new InvalidOperationException($"The PyTorch side did not start (install python3-torch for {python}, or pass --python none); it said: {ready ?? "nothing"}.");
            }
        }

        public double Epoch()
        {
            _process.StandardInput.WriteLine("epoch");
            _process.StandardInput.Flush();
            string line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The PyTorch side ended before answering.");
            return double.Parse(line, CultureInfo.InvariantCulture);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(30_000))
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }

    /// <summary>The same step as the library's loop, written out: images in memory, a seeded permutation per epoch.</summary>
    private sealed class HandWrittenLoop : IDisposable
    {
        private readonly Tensor _images;
        private readonly Tensor _classIndices;
        private readonly nn.Module<Tensor, Tensor> _generator;
        private readonly nn.Module<Tensor, Tensor> _discriminator;
        private readonly nn.Module<Tensor, Tensor> _average;
        private readonly optim.Optimizer _dOptimizer;
        private readonly optim.Optimizer _gOptimizer;
        private readonly int _classes;
        private readonly long _n;
        private long _step;
        private int _epoch;

        public HandWrittenLoop(IDataView train, long[] shape, int classes, int baseFilters)
        {
            var pixels = train.GetColumn<float[]>("Features").SelectMany(p => p).ToArray();
            var labels = train.GetColumn<uint>("Label").Select(k => (long)k - 1).ToArray();
            _n = labels.Length;
            _classes = classes;
            _images = ((tensor(pixels).reshape(_n, 1, 28, 28) * (2.0 / 255)) - 1).DetachFromDisposeScope();
            _classIndices = tensor(labels).DetachFromDisposeScope();
            TrainingRun.SeedForInitialisation(Seed);
            var generatorLayers = GanArchitectures.DcganGenerator(shape, baseFilters, classes);
            _generator = NetworkBuilder.BuildLayers(generatorLayers, [NoiseSize + 1], out _);
            _discriminator = NetworkBuilder.BuildLayers(GanArchitectures.DcganDiscriminator(shape, baseFilters, classes), shape, out _);
            _average = NetworkBuilder.BuildLayers(generatorLayers, [NoiseSize + 1], out _);
            _dOptimizer = optim.Adam(_discriminator.parameters(), 2e-4, 0.5, 0.999);
            _gOptimizer = optim.Adam(_generator.parameters(), 2e-4, 0.5, 0.999);
        }

        /// <summary>One epoch; returns its seconds.</summary>
        public double Epoch()
        {
            var watch = Stopwatch.StartNew();
            _generator.train();
            _discriminator.train();
            using var generatorRandom = new Generator((ulong)(Seed + _epoch++));
            using var order = randperm(_n, generator: generatorRandom);
            for (int start = 0; start + Batch <= _n; start += Batch)
            {
                using var scope = NewDisposeScope();
                var index = order.narrow(0, start, Batch);
                var real = _images.index_select(0, index);
                var label = _classIndices.index_select(0, index);
                Tensor fake;
                using (no_grad())
                {
                    fake = _generator.forward(Input(Batch, _classes, out _)).detach();
                }

                var realOut = _discriminator.forward(real);
                var fakeOut = _discriminator.forward(fake);
                var dLoss = nn.functional.softplus(-realOut.select(1, 0)).mean() + nn.functional.softplus(fakeOut.select(1, 0)).mean()
                    + nn.functional.cross_entropy(realOut.narrow(1, 1, _classes), label);
                _dOptimizer.zero_grad();
                dLoss.backward();
                _dOptimizer.step();

                var generated = _generator.forward(Input(Batch, _classes, out var fakeLabels));
                var output = _discriminator.forward(generated);
                var gLoss = nn.functional.softplus(-output.select(1, 0)).mean() + nn.functional.cross_entropy(output.narrow(1, 1, _classes), fakeLabels);
                _gOptimizer.zero_grad();
                gLoss.backward();
                _gOptimizer.step();
                double decay = Math.Min(ImageGanDefaults.EmaDecay, (1.0 + _step) / (10.0 + _step));
                using (no_grad())
                {
                    foreach (var (to, from) in _average.parameters().Zip(_generator.parameters()))
                    {
                        to.mul_(decay).add_(from, alpha: 1 - decay);
                    }

                    foreach (var (to, from) in _average.buffers().Zip(_generator.buffers()))
                    {
                        to.copy_(from);
                    }
                }

                // Read the losses as the library does (it logs them every step).
                _ = dLoss.item<float>() + gLoss.item<float>();
                _step++;
            }

            return watch.Elapsed.TotalSeconds;
        }

        public void Dispose()
        {
            _dOptimizer.Dispose();
            _gOptimizer.Dispose();
            _generator.Dispose();
            _discriminator.Dispose();
            _average.Dispose();
            _images.Dispose();
            _classIndices.Dispose();
        }
    }

    private static Tensor Input(long n, int classes, out Tensor fakeLabels)
    {
        var noise = randn(n, NoiseSize);
        fakeLabels = randint(classes, [n], dtype: ScalarType.Int64);
        return cat([noise, fakeLabels.to(ScalarType.Float32).unsqueeze(1)], 1);
    }
}
