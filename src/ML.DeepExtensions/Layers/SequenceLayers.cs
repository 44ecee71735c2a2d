using System.Globalization;
using ML.DeepExtensions.Networks.Sequence;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Layers;

/// <summary>
/// A layer that works on sequences and knows each row's valid length: padded steps never change a
/// valid output. A layer list with one of these builds a sequence network (token ids [T] or steps
/// [T, F] in); element-wise layers (activations, dropout) may sit between them.
/// </summary>
public abstract record SequenceLayer : NetworkLayer
{
    /// <summary>Throws <see cref="LayerShapeException"/> unless <paramref name="input"/> is a sequence [T, F].</summary>
    protected static void RequireSequence(long[] input, string what)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != 2)
        {
            throw new LayerShapeException(
                $"{what} needs a sequence input [T, F] but gets [{Format(input)}]; put Layer.Embedding first for token ids, "
                + "and a sequence pooling (or a recurrent layer with returnSequences: false) only after the sequence layers.");
        }
    }
}

/// <summary>Token ids [T] to vectors [T, <see cref="Dimensions"/>]; id 0 is padding (a zero vector), id 1 the unknown token.</summary>
/// <param name="Dimensions">Size of each token's vector.</param>
/// <param name="Vocabulary">Rows of the table including padding and unknown; 0 lets the trainer set it from the token key column (key count + 2).</param>
public sealed record EmbeddingLayer(int Dimensions, int Vocabulary) : SequenceLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length != 1)
        {
            throw new LayerShapeException($"{Describe()} needs token ids [T] but gets [{Format(input)}]; it must be the first layer of a token network.");
        }

        return [input[0], Dimensions];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input)
    {
        if (Vocabulary < 2)
        {
            throw new LayerShapeException(
                $"{Describe()} has no vocabulary size: set Vocabulary (token keys + 2 for padding and unknown), or let a text trainer set it from its token column.");
        }

        return new TokenEmbedding(Vocabulary, Dimensions);
    }

    /// <inheritdoc />
    public override string Describe() => Vocabulary > 0
        ? string.Create(CultureInfo.InvariantCulture, $"Embedding({Dimensions}, vocabulary {Vocabulary})")
        : string.Create(CultureInfo.InvariantCulture, $"Embedding({Dimensions})");
}

/// <summary>A stacked, optionally bidirectional recurrent layer: [T, F] → [T, D·Units], or [D·Units] (the last valid state) without <see cref="ReturnSequences"/>.</summary>
/// <param name="Cell">RNN, LSTM or GRU.</param>
/// <param name="Units">Hidden size per direction.</param>
/// <param name="Layers">Stacked layers.</param>
/// <param name="Bidirectional">Whether a second direction reads each row backwards from its last valid step.</param>
/// <param name="Dropout">Dropout between stacked layers during training.</param>
/// <param name="ReturnSequences">True: every step's output; false: each row's final hidden state (both directions' final states when bidirectional).</param>
public sealed record RecurrentLayer(RecurrentCell Cell, int Units, int Layers, bool Bidirectional, double Dropout, bool ReturnSequences) : SequenceLayer
{
    private int Width => Units * (Bidirectional ? 2 : 1);

    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireSequence(input, Describe());
        return ReturnSequences ? [input[0], Width] : [Width];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) =>
        new RecurrentEncoder(Cell, input[1], Units, Layers, Bidirectional, Dropout, ReturnSequences);

    /// <inheritdoc />
    public override string Describe()
    {
        string name = Cell switch { RecurrentCell.Lstm => "LSTM", RecurrentCell.Gru => "GRU", _ => "SimpleRNN" };
        return string.Create(CultureInfo.InvariantCulture,
            $"{name}({Units}{(Layers > 1 ? $" x{Layers}" : "")}{(Bidirectional ? ", bidirectional" : "")}{(Dropout > 0 ? $", dropout {Dropout}" : "")}{(ReturnSequences ? "" : ", last state")})");
    }
}

/// <summary>A 1-D convolution over time with "same" zero padding: [T, F] → [T, <see cref="Filters"/>].</summary>
/// <param name="Filters">Output channels.</param>
/// <param name="KernelSize">Steps per window (odd).</param>
public sealed record Conv1DLayer(int Filters, int KernelSize) : SequenceLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireSequence(input, Describe());
        return [input[0], Filters];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new TemporalConvolution(input[1], Filters, KernelSize);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Conv1D({Filters}, kernel {KernelSize})");
}

/// <summary>Max pooling over time in windows of <see cref="Size"/> steps (a partial last window is kept): [T, F] → [⌈T / Size⌉, F].</summary>
/// <param name="Size">Window size and stride.</param>
public sealed record MaxPool1DLayer(int Size) : SequenceLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireSequence(input, Describe());
        return [(input[0] + Size - 1) / Size, input[1]];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) => new TemporalMaxPooling(Size);

    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"MaxPool1D({Size})");
}

/// <summary>A sequence [T, F] to one vector [F] over each row's valid steps.</summary>
/// <param name="Mode">Last valid step, mean, max or attention.</param>
/// <param name="AttentionUnits">Hidden size of the attention scorer (attention only).</param>
public sealed record SequencePoolingLayer(SequencePoolingMode Mode, int AttentionUnits) : SequenceLayer
{
    /// <inheritdoc />
    public override long[] OutputShape(long[] input)
    {
        RequireSequence(input, Describe());
        return [input[1]];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(long[] input) =>
        new SequencePooling(Mode, input[1], AttentionUnits > 0 ? AttentionUnits : input[1]);

    /// <inheritdoc />
    public override string Describe() => Mode == SequencePoolingMode.Attention
        ? string.Create(CultureInfo.InvariantCulture, $"SequencePooling(Attention, {AttentionUnits})")
        : $"SequencePooling({Mode})";
}
