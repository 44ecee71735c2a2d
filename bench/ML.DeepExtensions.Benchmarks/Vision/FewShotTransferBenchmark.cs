using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Datasets;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// Few-shot transfer on Fashion-MNIST: pretrain on classes 0–4 (all their training images), then
/// learn classes 5–9 from K labelled images per class and test on every test image of 5–9. Compares,
/// on the same shot samplings and seeds: training from scratch with the same epoch budget, the frozen
/// pretrained network as an ML.NET featurizer under SDCA and LightGbm, fine-tuning the whole network,
/// and gradual unfreezing (head first, then the backbone in thirds from the top).
/// </summary>
internal static class FewShotTransferBenchmark
{
    private static readonly string[] OldClasses = [.. FashionMnist.ClassNames.Take(5)];
    private static readonly string[] NewClasses = [.. FashionMnist.ClassNames.Skip(5)];

    public static Command Create()
    {
        var architecture = VisionBenchmarkSetup.ArchitectureOption();
        var threads = VisionBenchmarkSetup.ThreadsOption();
        var shots = new Option<string>("--shots") { Description = "Labelled images per new class, comma-separated.", DefaultValueFactory = _ => "10,50,500" };
        var samplings = new Option<int>("--samplings") { Description = "Shot samplings per shot count (seeds 1..N); the table gives their mean.", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Epochs of the pretraining on classes 0-4.", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var pretrainRows = new Option<int?>("--pretrain-rows") { Description = "Pretrain on the first N images of classes 0-4 only (a quick check; default all 30,000)." };
        var epochs = new Option<int>("--epochs") { Description = "Epoch budget of every way of learning the new classes.", DefaultValueFactory = _ => 30 }.AtLeast(4);
        var testRows = new Option<int?>("--test-rows") { Description = "Test on the first N test images of classes 5-9 only (a quick check; default all 5,000)." };
        return BenchmarkCommand.Create("vision-few-shot",
            "Pretrain on Fashion-MNIST classes 0-4, learn 5-9 from few images: from scratch, featurizer + SDCA / LightGbm, fine-tuning, gradual unfreezing.",
            [architecture, threads, shots, samplings, pretrainEpochs, pretrainRows, epochs, testRows],
            parse => Run(parse.GetValue(architecture)!, parse.GetValue(threads),
                [.. parse.GetValue(shots)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))],
                parse.GetValue(samplings), parse.GetValue(pretrainEpochs), parse.GetValue(pretrainRows), parse.GetValue(epochs), parse.GetValue(testRows)));
    }

    public static BenchmarkReport Run(string architecture, int threads, IReadOnlyList<int> shots, int samplings, int pretrainEpochs, int? pretrainRows, int epochs, int? testRows)
    {
        var context = new MLContext(seed: 1);
        var train = Read(context, VisionBenchmarkSetup.Load(context, FashionMnistSplit.Train));
        var test = Read(context, VisionBenchmarkSetup.Load(context, FashionMnistSplit.Test)).Where(i => NewClasses.Contains(i.Label)).Take(testRows ?? int.MaxValue).ToList();
        var testData = Load(context, test, NewClasses);

        var old = train.Where(i => OldClasses.Contains(i.Label)).Take(pretrainRows ?? int.MaxValue).ToList();
        BenchmarkCommand.Progress($"pretraining {architecture} on {old.Count} images of classes 0-4, {pretrainEpochs} epochs");
        var pretrainClock = Stopwatch.StartNew();
        var pretrainedModel = context.MulticlassClassification.Trainers.ImageClassifier(
            VisionBenchmarkSetup.AccuracyOptions(VisionBenchmarkSetup.Architecture(architecture), pretrainEpochs, threads, [])).Fit(Load(context, old, OldClasses));
        pretrainClock.Stop();
        var backbone = PretrainedNetwork.FromTransformer(pretrainedModel);
        int layers = backbone.Description.Layers.Count;

        var methods = new (string Name, Func<IDataView, ITransformer> Fit)[]
        {
            ("from scratch", few => context.MulticlassClassification.Trainers.ImageClassifier(Options(architecture, epochs, threads, null)).Fit(few)),
            ("featurizer + SDCA", few => context.Transforms.FeaturizeByNetwork("Embedding", backbone)
                .AppendCacheCheckpoint(context) // SDCA passes over the data many times: featurize once
                .Append(context.Transforms.NormalizeMinMax("Embedding")) // and it converges slowly on unscaled ReLU features
                .Append(context.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: "Embedding")).Fit(few)),
            ("featurizer + LightGbm", few => context.Transforms.FeaturizeByNetwork("Embedding", backbone).AppendCacheCheckpoint(context)
                .Append(context.MulticlassClassification.Trainers.LightGbm(featureColumnName: "Embedding", minimumExampleCountPerLeaf: 5)).Fit(few)),
            ("fine-tune whole network", few => context.MulticlassClassification.Trainers.ImageClassifier(
                Options(architecture, epochs, threads, new PretrainedOptions { Network = backbone })).Fit(few)),
            ("gradual unfreezing", few => context.MulticlassClassification.Trainers.ImageClassifier(GradualOptions(architecture, epochs, threads, backbone, layers)).Fit(few)),
        };

        var accuracy = new Dictionary<(int Shots, string Method), List<double>>();
        var seconds = new Dictionary<(int Shots, string Method), List<double>>();
        foreach (int k in shots)
        {
            for (int sampling = 1; sampling <= samplings; sampling++)
            {
                var random = new Random(sampling);
                var rows = NewClasses.SelectMany(c => train.Where(i => i.Label == c).OrderBy(_ => random.Next()).Take(k)).ToList();
                var few = Load(context, rows, NewClasses);
                foreach (var (name, fit) in methods)
                {
                    var clock = Stopwatch.StartNew();
                    var model = fit(few);
                    clock.Stop();
                    double value = context.MulticlassClassification.Evaluate(model.Transform(testData)).MicroAccuracy;
                    BenchmarkCommand.Progress($"{k} shots, sampling {sampling}, {name}: accuracy {value:P2} ({clock.Elapsed.TotalSeconds:F1} s)");
                    Add(accuracy, (k, name), value);
                    Add(seconds, (k, name), clock.Elapsed.TotalSeconds);
                }
            }
        }

        var table = new ReportTable(("Shots per class", true), ("Method", false), ("Mean test accuracy", true), ("Per sampling", false), ("Median fit seconds", true));
        foreach (int k in shots)
        {
            foreach (var (name, _) in methods)
            {
                var values = accuracy[(k, name)];
                table.AddRow(k.ToString(CultureInfo.InvariantCulture), name, values.Average().ToString("P2", CultureInfo.InvariantCulture),
                    string.Join(", ", values.Select(v => v.ToString("P1", CultureInfo.InvariantCulture))), Statistics.Number(Statistics.Median(seconds[(k, name)]), 1));
            }
        }

        double Gain(int k, string method) => 100 * (accuracy[(k, method)].Average() - accuracy[(k, "from scratch")].Average());
        var bullets = shots.Select(k => (FormattableString)$"{k} shots: fine-tuning {Gain(k, "fine-tune whole network"):+0.0;-0.0} points, gradual unfreezing {Gain(k, "gradual unfreezing"):+0.0;-0.0} points, featurizer + SDCA {Gain(k, "featurizer + SDCA"):+0.0;-0.0} points against training from scratch")
            .Append((FormattableString)$"Pretraining: {old.Count:N0} images of classes 0-4, {pretrainEpochs} epochs, {pretrainClock.Elapsed.TotalMinutes:F1} min")
            .ToArray();
        return new BenchmarkReport()
            .Paragraph($"Architecture `{architecture}`; new classes {string.Join(", ", NewClasses)} from K images per class (samplings with seeds 1..{samplings}), tested on {test.Count:N0} test images; every network method {epochs} epochs, batch 32, Adam 3e-3 (gradual unfreezing: the pretrained layers at a tenth of it), seed 2, {threads} libtorch thread(s).")
            .Table(table)
            .Bullets(bullets);
    }

    private static ImageClassifierOptions Options(string architecture, int epochs, int threads, PretrainedOptions? pretrained,
        IReadOnlyList<LayerSelector>? frozen = null, IReadOnlyList<ITrainingCallback>? callbacks = null, double backboneRateFactor = 1) => new()
    {
        Architecture = VisionBenchmarkSetup.Architecture(architecture),
        Pretrained = pretrained,
        ParameterGroups = backboneRateFactor == 1 ? [] : [new ParameterGroupOptions { Layers = [LayerSelector.AllExcept(LayerNames.Output)], LearningRateFactor = backboneRateFactor }],
        FrozenLayers = frozen ?? [],
        Callbacks = callbacks ?? [],
        Epochs = epochs,
        Data = { BatchSize = 32 },
        Optimizer = new OptimizerOptions { LearningRate = 3e-3 },
        Seed = 2,
        IntraOpThreads = threads,
    };

    /// <summary>
    /// The head alone for a quarter of the epochs, then the top, middle and bottom thirds of the backbone
    /// (top-level indices: 0 is <c>normalize</c>), the backbone at a tenth of the head's learning rate.
    /// </summary>
    private static ImageClassifierOptions GradualOptions(string architecture, int epochs, int threads, PretrainedNetwork backbone, int layers) =>
        Options(architecture, epochs, threads, new PretrainedOptions { Network = backbone }, [LayerSelector.AllExcept(LayerNames.Output)],
        [
            new GradualUnfreezing(
            [
                new UnfreezeStep(epochs / 4, [LayerSelector.Range(1 + (2 * layers / 3), 1 + layers)]),
                new UnfreezeStep(epochs / 2, [LayerSelector.Range(1 + (layers / 3), 1 + (2 * layers / 3))]),
                new UnfreezeStep(3 * epochs / 4, [LayerSelector.Range(1, 1 + (layers / 3))]),
            ]),
        ], backboneRateFactor: 0.1);

    private static void Add(Dictionary<(int, string), List<double>> values, (int, string) key, double value)
    {
        if (!values.TryGetValue(key, out var list))
        {
            values[key] = list = [];
        }

        list.Add(value);
    }

    private sealed class Image
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class IdxRow
    {
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }

    private static List<Image> Read(MLContext context, IDataView data) => context.Data
        .CreateEnumerable<IdxRow>(data, reuseRowObject: false)
        .Select(r => new Image { Features = r.Features, Label = FashionMnist.ClassNames[(int)r.Label - 1] })
        .ToList();

    /// <summary>The images with a key label over <paramref name="classes"/>, in that order.</summary>
    private static IDataView Load(MLContext context, IEnumerable<Image> images, IReadOnlyList<string> classes)
    {
        var data = context.Data.LoadFromEnumerable(images);
        var keys = context.Data.LoadFromEnumerable(classes.Select(c => new Image { Label = c, Features = new float[784] }));
        return context.Transforms.Conversion.MapValueToKey("Label", keyData: context.Transforms.SelectColumns("Label").Fit(keys).Transform(keys))
            .Fit(data).Transform(data);
    }
}
