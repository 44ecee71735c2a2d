using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// A trained GAN. As a transformer it scores images with the discriminator (a Single
/// <c>Score</c> column: its realness logit, higher for images that look like the training data,
/// usable for anomaly detection). <see cref="Generator"/> turns a noise column (and, when
/// conditional, the label column) into images, and <see cref="Sample"/> generates rows. Both are
/// chains of ML.NET's own transformers around ONNX graphs: save them with <c>mlContext.Model.Save</c>
/// and load them where this library is absent. Dispose the model when done: it frees the ONNX
/// Runtime sessions, their temp model files and the TorchSharp networks.
/// </summary>
public sealed class ImageGanModel : ITransformer, IDisposable, ISavedAsChain
{
    private readonly OnnxScoring _generatorScoring;
    private readonly OnnxScoring _discriminatorScoring;
    private readonly ITransformer _discriminator;
    private readonly byte[] _generatorGraph;
    private readonly byte[] _discriminatorGraph;
    private readonly ImageGanOptions _options;

    internal ImageGanModel(
        IHostEnvironment environment, ImageGanOptions options, byte[] generatorGraph, byte[] discriminatorGraph,
        nn.Module<Tensor, Tensor> generator, nn.Module<Tensor, Tensor> discriminator, long[] imageShape, string[]? classNames,
        TrainingHistory history, IDataView trainingData)
    {
        _options = options;
        _generatorGraph = generatorGraph;
        _discriminatorGraph = discriminatorGraph;
        GeneratorNetwork = generator;
        DiscriminatorNetwork = discriminator;
        ImageShape = imageShape;
        ClassNames = classNames;
        History = history;
        List<OnnxInput> inputs = [OnnxInput.Column(options.NoiseColumnName)];
        if (classNames is not null)
        {
            inputs.Add(new OnnxInput(ImageGanGraphs.LabelKeysInput(options), options.LabelColumnName!));
        }

        var generatorInput = SampleInput(1, null, 0);
        GeneratorInputSchema = generatorInput.Schema;
        _generatorScoring = OnnxScoringChain.Build(generatorGraph, inputs, [options.GeneratedColumnName], generatorInput);
        Generator = _generatorScoring.Transformer;
        _discriminatorScoring = OnnxScoringChain.Build(
            discriminatorGraph, [OnnxInput.Column(options.FeatureColumnName)], [ImageGanGraphs.DiscriminatorRawOutput], trainingData,
            scored => MLNetScorers.Regression(environment, scored.Schema, ImageGanGraphs.DiscriminatorRawOutput),
            dropAfterScoring: [ImageGanGraphs.DiscriminatorRawOutput]);
        _discriminator = _discriminatorScoring.Transformer;
    }

    /// <summary>
    /// The generator (the moving average of its weights when <see cref="ImageGanOptions.EmaDecay"/> &gt; 0):
    /// a Vector&lt;Single, NoiseSize&gt; noise column (standard normal values), plus the label key column
    /// of a conditional model, in; a Vector&lt;Single, C, H, W&gt; image column of pixels in
    /// [0, PixelScale] out, which <c>mlContext.Transforms.ConvertToImage</c> turns into images.
    /// </summary>
    public ITransformer Generator { get; }

    /// <summary>The input schema of <see cref="Generator"/> (the noise column and, when conditional, the label key column), for <c>mlContext.Model.Save(model.Generator, model.GeneratorInputSchema, path)</c>.</summary>
    public DataViewSchema GeneratorInputSchema { get; }

    /// <summary>The discriminator as a scoring transformer: the features column in, a Single <c>Score</c> (realness logit) out. The same chain this model's <see cref="Transform"/> uses.</summary>
    public ITransformer Discriminator => _discriminator;

    /// <summary>The generator network in TorchSharp (the averaged weights), for inspection or further use.</summary>
    public nn.Module<Tensor, Tensor> GeneratorNetwork { get; }

    /// <summary>The discriminator network in TorchSharp.</summary>
    public nn.Module<Tensor, Tensor> DiscriminatorNetwork { get; }

    /// <summary>The image shape [C, H, W].</summary>
    public IReadOnlyList<long> ImageShape { get; }

    /// <summary>The classes of a conditional model in key order, or null.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The discriminator and generator losses of each epoch (<c>d_loss</c>, <c>g_loss</c>).</summary>
    public TrainingHistory History { get; }

    /// <summary>The generator's ONNX graph.</summary>
    public ReadOnlySpan<byte> GeneratorOnnxModel => _generatorGraph;

    /// <summary>The discriminator's ONNX graph.</summary>
    public ReadOnlySpan<byte> DiscriminatorOnnxModel => _discriminatorGraph;

    /// <inheritdoc />
    public bool IsRowToRowMapper => _discriminator.IsRowToRowMapper;

    /// <summary>
    /// <paramref name="count"/> generated rows: the noise column, the label key column (conditional
    /// models) and the generated image column. The same seed gives the same rows.
    /// </summary>
    /// <param name="count">Rows to generate.</param>
    /// <param name="labels">The class of each row by name (<see cref="ClassNames"/>), <paramref name="count"/> of them; null cycles through the classes. Only for conditional models.</param>
    /// <param name="seed">Seed of the noise.</param>
    /// <exception cref="ArgumentException">A label is not one of the classes, the count of labels differs from <paramref name="count"/>, or labels are given to an unconditional model.</exception>
    public IDataView Sample(int count, IReadOnlyList<string>? labels = null, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return Generator.Transform(SampleInput(count, labels, seed));
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _discriminator.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _discriminator.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return _discriminator.Transform(input);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => _discriminator.Save(ctx);

    ITransformer ISavedAsChain.SavedTransformer => _discriminator;

    /// <summary>Frees both ONNX Runtime sessions (deleting their temp model files) and both TorchSharp networks.</summary>
    public void Dispose()
    {
        _generatorScoring.Dispose();
        _discriminatorScoring.Dispose();
        GeneratorNetwork.Dispose();
        DiscriminatorNetwork.Dispose();
    }

    private sealed class NoiseRow
    {
        public float[] Noise { get; set; } = [];

        public string ClassName { get; set; } = string.Empty;
    }

    private sealed class ClassRow
    {
        public string ClassName { get; set; } = string.Empty;
    }

    private IDataView SampleInput(int count, IReadOnlyList<string>? labels, int seed)
    {
        if (ClassNames is null && labels is not null)
        {
            throw new ArgumentException("This GAN is unconditional (trained without a label column): it takes no labels.", nameof(labels));
        }

        if (labels is not null && labels.Count != count)
        {
            throw new ArgumentException($"{labels.Count} labels were given for {count} rows; give one per row, or null to cycle through the classes.", nameof(labels));
        }

        if (labels is not null && labels.FirstOrDefault(l => !ClassNames!.Contains(l)) is { } unknown)
        {
            throw new ArgumentException($"The label '{unknown}' is not a class of this GAN; its classes are: {string.Join(", ", ClassNames!)}.", nameof(labels));
        }

        float[] noise;
        using (var scope = NewDisposeScope())
        {
            using var random = new TorchSharp.torch.Generator((ulong)seed);
            noise = randn([count, _options.NoiseSize], generator: random).data<float>().ToArray();
        }

        var rows = Enumerable.Range(0, count).Select(i => new NoiseRow
        {
            Noise = noise.AsSpan(i * _options.NoiseSize, _options.NoiseSize).ToArray(),
            ClassName = ClassNames is null ? string.Empty : labels?[i] ?? ClassNames[i % ClassNames.Count],
        }).ToList();
        var context = new MLContext(seed: 0);
        var schema = SchemaDefinition.Create(typeof(NoiseRow));
        schema[nameof(NoiseRow.Noise)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, _options.NoiseSize);
        schema[nameof(NoiseRow.Noise)].ColumnName = _options.NoiseColumnName;
        const string ClassColumn = "ImageGan.ClassName";
        schema[nameof(NoiseRow.ClassName)].ColumnName = ClassColumn;
        var data = context.Data.LoadFromEnumerable(rows, schema);
        if (ClassNames is null)
        {
            return context.Transforms.DropColumns(ClassColumn).Fit(data).Transform(data);
        }

        var keys = context.Data.LoadFromEnumerable(ClassNames.Select(n => new ClassRow { ClassName = n }));
        var keyed = context.Transforms.Conversion.MapValueToKey(_options.LabelColumnName, ClassColumn, keyData: keys)
            .Append(context.Transforms.DropColumns(ClassColumn));
        return keyed.Fit(data).Transform(data);
    }
}
