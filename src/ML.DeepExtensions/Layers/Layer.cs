using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Layers;

/// <summary>
/// Factory methods for the built-in layers, Keras style:
/// <c>[Layer.Conv2D(32), Layer.BatchNorm(), Layer.Relu(), Layer.MaxPool2D(), Layer.Flatten(), Layer.Dense(128), Layer.Relu()]</c>.
/// The output layer (one unit per class) is added by the trainer.
/// </summary>
public static class Layer
{
    /// <summary>A convolution; <paramref name="padding"/> null keeps the size at stride 1 (kernelSize / 2).</summary>
    public static NetworkLayer Conv2D(int filters, int kernelSize = 3, int stride = 1, int? padding = null)
    {
        OptionChecks.Require(filters > 0, nameof(filters), filters, "must be positive");
        OptionChecks.Require(kernelSize > 0, nameof(kernelSize), kernelSize, "must be positive");
        OptionChecks.Require(stride > 0, nameof(stride), stride, "must be positive");
        OptionChecks.Require(padding is null or >= 0, nameof(padding), padding ?? 0, "must be zero or positive");
        return new ConvolutionLayer(filters, kernelSize, stride, padding ?? (kernelSize / 2));
    }

    /// <summary>Max pooling; the stride defaults to the window size.</summary>
    public static NetworkLayer MaxPool2D(int size = 2, int? stride = null) => Pool(average: false, size, stride);

    /// <summary>Average pooling; the stride defaults to the window size.</summary>
    public static NetworkLayer AvgPool2D(int size = 2, int? stride = null) => Pool(average: true, size, stride);

    /// <summary>Batch normalisation.</summary>
    public static NetworkLayer BatchNorm() => new BatchNormalizationLayer();

    /// <summary>Dropout.</summary>
    public static NetworkLayer Dropout(double rate)
    {
        OptionChecks.Require(rate is >= 0 and < 1, nameof(rate), rate, "must be in [0, 1)");
        return new DropoutLayer(rate);
    }

    /// <summary>An activation.</summary>
    public static NetworkLayer Activation(Activation function) => new ActivationLayer(function);

    /// <summary>ReLU, the common case of <see cref="Activation"/>.</summary>
    public static NetworkLayer Relu() => new ActivationLayer(Networks.Activation.Relu);

    /// <summary>Flattens an image to a vector.</summary>
    public static NetworkLayer Flatten() => new FlattenLayer();

    /// <summary>A fully connected layer.</summary>
    public static NetworkLayer Dense(int units)
    {
        OptionChecks.Require(units > 0, nameof(units), units, "must be positive");
        return new DenseLayer(units);
    }

    /// <summary>A residual (ResNet basic) block.</summary>
    public static NetworkLayer Residual(int filters, int stride = 1)
    {
        OptionChecks.Require(filters > 0, nameof(filters), filters, "must be positive");
        OptionChecks.Require(stride > 0, nameof(stride), stride, "must be positive");
        return new ResidualLayer(filters, stride);
    }

    /// <summary>Global average pooling.</summary>
    public static NetworkLayer GlobalAveragePooling() => new GlobalAveragePoolingLayer();

    /// <summary>A transposed convolution; the defaults (4x4, stride 2, padding 1) double the size, DCGAN style.</summary>
    public static NetworkLayer ConvTranspose2D(int filters, int kernelSize = 4, int stride = 2, int padding = 1, int outputPadding = 0)
    {
        OptionChecks.Require(filters > 0, nameof(filters), filters, "must be positive");
        OptionChecks.Require(kernelSize > 0, nameof(kernelSize), kernelSize, "must be positive");
        OptionChecks.Require(stride > 0, nameof(stride), stride, "must be positive");
        OptionChecks.Require(padding >= 0, nameof(padding), padding, "must be zero or positive");
        OptionChecks.Require(outputPadding >= 0 && outputPadding < stride, nameof(outputPadding), outputPadding, "must be zero or positive and below the stride");
        return new TransposedConvolutionLayer(filters, kernelSize, stride, padding, outputPadding);
    }

    /// <summary>Enlarges images by <paramref name="scale"/> (nearest neighbour, or bilinear).</summary>
    public static NetworkLayer Upsample(int scale = 2, bool bilinear = false)
    {
        OptionChecks.Require(scale > 0, nameof(scale), scale, "must be positive");
        return new UpsamplingLayer(scale, bilinear);
    }

    /// <summary>Reshapes each row (for example a generator's flat [F] to [C, H, W]).</summary>
    public static NetworkLayer Reshape(params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        OptionChecks.Require(shape.Length > 0 && shape.All(d => d > 0), nameof(shape), $"[{string.Join(", ", shape)}]", "must have positive dimensions");
        return new ReshapeLayer([.. shape]);
    }

    /// <summary>Leaky ReLU with the given negative slope (0.2 is the GAN convention).</summary>
    public static NetworkLayer LeakyRelu(double negativeSlope = 0.2)
    {
        OptionChecks.Require(negativeSlope >= 0 && double.IsFinite(negativeSlope), nameof(negativeSlope), negativeSlope, "must be zero or positive");
        return new LeakyReluLayer(negativeSlope);
    }

    /// <summary>Hyperbolic tangent (a generator's last layer for images in [-1, 1]).</summary>
    public static NetworkLayer Tanh() => new ActivationLayer(Networks.Activation.Tanh);

    /// <summary>Appends a learned vector of <paramref name="dimensions"/> for the class index in the row's last value.</summary>
    public static NetworkLayer LabelEmbedding(int classes, int dimensions)
    {
        OptionChecks.Require(classes > 0, nameof(classes), classes, "must be positive");
        OptionChecks.Require(dimensions > 0, nameof(dimensions), dimensions, "must be positive");
        return new LabelEmbeddingLayer(classes, dimensions);
    }

    /// <summary>Spectral normalisation of a Conv2D, ConvTranspose2D or Dense layer (a GAN discriminator's stabiliser).</summary>
    public static NetworkLayer SpectralNorm(NetworkLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        OptionChecks.Require(layer is ConvolutionLayer or TransposedConvolutionLayer or DenseLayer, nameof(layer), layer.Describe(), "must be Conv2D, ConvTranspose2D or Dense");
        return new SpectralNormalizationLayer(layer);
    }

    /// <summary>
    /// Token ids to vectors of <paramref name="dimensions"/> values; the first layer of a token
    /// network. Id 0 is padding (a fixed zero vector), id 1 the unknown token (ML.NET's missing key 0),
    /// key k is id k + 1. <paramref name="vocabulary"/> null lets a text trainer size it from its token column.
    /// </summary>
    public static NetworkLayer Embedding(int dimensions, int? vocabulary = null)
    {
        OptionChecks.Require(dimensions > 0, nameof(dimensions), dimensions, "must be positive");
        OptionChecks.Require(vocabulary is null or >= 2, nameof(vocabulary), vocabulary ?? 0, "must be at least 2 (padding and unknown)");
        return new EmbeddingLayer(dimensions, vocabulary ?? 0);
    }

    /// <summary>An LSTM over a sequence: stacked <paramref name="layers"/>, optionally bidirectional, with dropout between layers.</summary>
    /// <param name="units">Hidden size per direction.</param>
    /// <param name="layers">Stacked layers.</param>
    /// <param name="bidirectional">Whether a second direction reads each row backwards from its last valid step.</param>
    /// <param name="dropout">Dropout between stacked layers during training, in [0, 1).</param>
    /// <param name="returnSequences">True (default): every step's output, for a pooling or another sequence layer; false: each row's final state.</param>
    public static NetworkLayer Lstm(int units, int layers = 1, bool bidirectional = false, double dropout = 0, bool returnSequences = true) =>
        Recurrent(RecurrentCell.Lstm, units, layers, bidirectional, dropout, returnSequences);

    /// <summary>A GRU over a sequence; see <see cref="Lstm"/> for the parameters.</summary>
    public static NetworkLayer Gru(int units, int layers = 1, bool bidirectional = false, double dropout = 0, bool returnSequences = true) =>
        Recurrent(RecurrentCell.Gru, units, layers, bidirectional, dropout, returnSequences);

    /// <summary>An Elman RNN (tanh) over a sequence; see <see cref="Lstm"/> for the parameters.</summary>
    public static NetworkLayer SimpleRnn(int units, int layers = 1, bool bidirectional = false, double dropout = 0, bool returnSequences = true) =>
        Recurrent(RecurrentCell.Simple, units, layers, bidirectional, dropout, returnSequences);

    /// <summary>A 1-D convolution over time with "same" zero padding (stride 1); <paramref name="kernelSize"/> must be odd.</summary>
    public static NetworkLayer Conv1D(int filters, int kernelSize = 3)
    {
        OptionChecks.Require(filters > 0, nameof(filters), filters, "must be positive");
        OptionChecks.Require(kernelSize > 0 && kernelSize % 2 == 1, nameof(kernelSize), kernelSize, "must be odd and positive");
        return new Conv1DLayer(filters, kernelSize);
    }

    /// <summary>Max pooling over time in windows of <paramref name="size"/> steps (stride = size; a partial last window is kept).</summary>
    public static NetworkLayer MaxPool1D(int size = 2)
    {
        OptionChecks.Require(size > 0, nameof(size), size, "must be positive");
        return new MaxPool1DLayer(size);
    }

    /// <summary>
    /// Pools a sequence into one vector over each row's valid steps: the last valid step, the mean, the
    /// maximum, or attention (<paramref name="attentionUnits"/> null: as many units as features).
    /// </summary>
    public static NetworkLayer SequencePooling(SequencePoolingMode mode, int? attentionUnits = null)
    {
        OptionChecks.Require(Enum.IsDefined(mode), nameof(mode), mode, "must be a defined mode");
        OptionChecks.Require(attentionUnits is null or > 0, nameof(attentionUnits), attentionUnits ?? 0, "must be positive");
        return new SequencePoolingLayer(mode, attentionUnits ?? 0);
    }

    private static RecurrentLayer Recurrent(RecurrentCell cell, int units, int layers, bool bidirectional, double dropout, bool returnSequences)
    {
        OptionChecks.Require(units > 0, nameof(units), units, "must be positive");
        OptionChecks.Require(layers > 0, nameof(layers), layers, "must be positive");
        OptionChecks.Require(dropout is >= 0 and < 1, nameof(dropout), dropout, "must be in [0, 1)");
        return new RecurrentLayer(cell, units, layers, bidirectional, dropout, returnSequences);
    }

    private static PoolingLayer Pool(bool average, int size, int? stride)
    {
        OptionChecks.Require(size > 0, nameof(size), size, "must be positive");
        OptionChecks.Require(stride is null or > 0, nameof(stride), stride ?? 0, "must be positive");
        return new PoolingLayer(average, size, stride ?? size);
    }
}
