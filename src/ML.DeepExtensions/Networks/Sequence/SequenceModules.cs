using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Sequence;

/// <summary>Which recurrent cell a <see cref="RecurrentEncoder"/> runs.</summary>
public enum RecurrentCell
{
    /// <summary>An Elman RNN with tanh: h = tanh(W x + R h + b).</summary>
    Simple,

    /// <summary>Long short-term memory.</summary>
    Lstm,

    /// <summary>Gated recurrent unit (PyTorch's form, reset gate applied after the recurrent product).</summary>
    Gru,
}

/// <summary>How <see cref="SequencePooling"/> turns a sequence into one vector.</summary>
public enum SequencePoolingMode
{
    /// <summary>The output at each row's last valid step.</summary>
    Last,

    /// <summary>The mean over the valid steps.</summary>
    Mean,

    /// <summary>The per-feature maximum over the valid steps.</summary>
    Max,

    /// <summary>A learned weighted mean: softmax over the valid steps of v·tanh(W x + b).</summary>
    Attention,
}

/// <summary>Token ids [N, T] to vectors [N, T, E]; id 0 is padding and keeps a zero vector.</summary>
internal sealed class TokenEmbedding : nn.Module<Tensor, Tensor>, ISequenceModule
{
    private readonly Embedding embedding;

    public TokenEmbedding(long vocabulary, long dimensions)
        : base("token_embedding")
    {
        Vocabulary = vocabulary;
        Dimensions = dimensions;
        embedding = nn.Embedding(vocabulary, dimensions, padding_idx: 0);
        RegisterComponents();
    }

    public long Vocabulary { get; }

    public long Dimensions { get; }

    internal Tensor Weight => embedding.weight!;

    public override Tensor forward(Tensor input) => embedding.forward(input.to(ScalarType.Int64));

    public (Tensor Output, Tensor Lengths) Forward(Tensor input, Tensor lengths) =>
        (SequenceNetwork.ZeroPadding(forward(input), lengths), lengths);
}

/// <summary>A stacked, optionally bidirectional RNN, LSTM or GRU over padded batches [N, T, F] (packed by length).</summary>
internal sealed class RecurrentEncoder : nn.Module<Tensor, Tensor>, ISequenceModule
{
    private readonly nn.Module rnn;

    public RecurrentEncoder(RecurrentCell cell, long inputSize, long hiddenSize, long layers, bool bidirectional, double dropout, bool returnSequences)
        : base("recurrent_encoder")
    {
        Cell = cell;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        LayerCount = layers;
        Bidirectional = bidirectional;
        ReturnSequences = returnSequences;
        rnn = cell switch
        {
            RecurrentCell.Lstm => nn.LSTM(inputSize, hiddenSize, layers, batchFirst: true, dropout: dropout, bidirectional: bidirectional),
            RecurrentCell.Gru => nn.GRU(inputSize, hiddenSize, layers, batchFirst: true, dropout: dropout, bidirectional: bidirectional),
            _ => nn.RNN(inputSize, hiddenSize, layers, nn.NonLinearities.Tanh, batchFirst: true, dropout: dropout, bidirectional: bidirectional),
        };
        RegisterComponents();
    }

    public RecurrentCell Cell { get; }

    public long InputSize { get; }

    public long HiddenSize { get; }

    public long LayerCount { get; }

    public bool Bidirectional { get; }

    public bool ReturnSequences { get; }

    internal int Directions => Bidirectional ? 2 : 1;

    /// <summary>The parameter of the recurrent module named like PyTorch's, e.g. <c>weight_ih_l0_reverse</c>.</summary>
    internal Tensor Parameter(string name) =>
        rnn.named_parameters().First(p => p.name == name).parameter;

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var lengths = torch.full([input.shape[0]], input.shape[1], ScalarType.Int64, device: input.device);
        return Forward(input, lengths).Output.MoveToOuterDisposeScope();
    }

    public (Tensor Output, Tensor Lengths) Forward(Tensor input, Tensor lengths)
    {
        using var scope = torch.NewDisposeScope();
        long steps = input.shape[1];
        var cpuLengths = lengths.cpu();
        bool full = cpuLengths.min().item<long>() == steps;
        if (full || !Bidirectional)
        {
            // The dense kernels, without packing's sort, gather and scatter. With every row full length
            // (always so for numeric sequences) they compute the same values. A forward-only layer
            // computes every valid step the same way too, since a step reads only earlier ones; the
            // steps past a row's end are wasted work, yet on fortune-length text batches (a quarter of
            // the steps valid) this ran twice as fast as packing (`recurrent-padding` benchmark).
            (Tensor Output, Tensor Hidden) dense = rnn switch
            {
                LSTM lstm => DropCell(lstm.call(input)),
                GRU gru => gru.call(input),
                RNN simple => simple.call(input),
                _ => throw new InvalidOperationException("unreachable"),
            };
            Tensor denseResult = full
                ? (ReturnSequences ? dense.Output : LastStates(dense.Hidden, input.shape[0]))
                : (ReturnSequences ? SequenceNetwork.ZeroPadding(dense.Output, lengths) : LastValidOutput(dense.Output, lengths));
            return (denseResult.MoveToOuterDisposeScope(), lengths);
        }

        var packed = nn.utils.rnn.pack_padded_sequence(input, cpuLengths, batch_first: true, enforce_sorted: false);
        (nn.utils.rnn.PackedSequence Output, Tensor Hidden) result = rnn switch
        {
            LSTM lstm => Drop(lstm.call(packed)),
            GRU gru => gru.call(packed),
            RNN simple => simple.call(packed),
            _ => throw new InvalidOperationException("unreachable"),
        };

        Tensor output;
        if (ReturnSequences)
        {
            output = nn.utils.rnn.pad_packed_sequence(result.Output, batch_first: true, total_length: steps).Item1;
        }
        else
        {
            output = LastStates(result.Hidden, input.shape[0]);
        }

        return (output.MoveToOuterDisposeScope(), lengths);

        static (nn.utils.rnn.PackedSequence, Tensor) Drop((nn.utils.rnn.PackedSequence Output, Tensor Hidden, Tensor Cell) r) => (r.Output, r.Hidden);
        static (Tensor, Tensor) DropCell((Tensor Output, Tensor Hidden, Tensor Cell) r) => (r.Output, r.Hidden);
    }

    /// <summary>A forward-only layer's last-layer output [N, T, H] at each row's last valid step: its final state, [N, H].</summary>
    private static Tensor LastValidOutput(Tensor output, Tensor lengths)
    {
        var index = (lengths.to(ScalarType.Int64) - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2]);
        return output.gather(1, index).squeeze(1);
    }

    /// <summary>h_n [layers·D, N, H] → the last layer's directions side by side (forward then backward), [N, D·H].</summary>
    private Tensor LastStates(Tensor hidden, long rows) =>
        hidden.narrow(0, (LayerCount - 1) * Directions, Directions).transpose(0, 1).reshape(rows, Directions * HiddenSize);
}

/// <summary>A 1-D convolution over time with "same" zero padding (odd kernel, stride 1): [N, T, F] → [N, T, C].</summary>
internal sealed class TemporalConvolution : nn.Module<Tensor, Tensor>, ISequenceModule
{
    private readonly Conv1d conv;

    public TemporalConvolution(long inputSize, long filters, long kernelSize)
        : base("temporal_convolution")
    {
        KernelSize = kernelSize;
        conv = nn.Conv1d(inputSize, filters, kernelSize, padding: kernelSize / 2);
        RegisterComponents();
    }

    public long KernelSize { get; }

    internal Conv1d Conv => conv;

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return conv.forward(input.transpose(1, 2)).transpose(1, 2).MoveToOuterDisposeScope();
    }

    // Padded steps are zero on the way in, so a valid step near the end sees exactly the zero padding
    // it would see without the batch's extra steps; padded outputs are zeroed on the way out.
    public (Tensor Output, Tensor Lengths) Forward(Tensor input, Tensor lengths) =>
        (SequenceNetwork.ZeroPadding(forward(SequenceNetwork.ZeroPadding(input, lengths)), lengths), lengths);
}

/// <summary>Max pooling over time in windows of <see cref="Size"/> steps (stride = size, a partial last window kept): [N, T, F] → [N, ⌈T/size⌉, F].</summary>
internal sealed class TemporalMaxPooling : nn.Module<Tensor, Tensor>, ISequenceModule
{
    public TemporalMaxPooling(long size)
        : base("temporal_max_pooling")
    {
        Size = size;
        RegisterComponents();
    }

    public long Size { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return nn.functional.max_pool1d(input.transpose(1, 2), Size, Size, ceil_mode: true).transpose(1, 2).MoveToOuterDisposeScope();
    }

    public (Tensor Output, Tensor Lengths) Forward(Tensor input, Tensor lengths)
    {
        using var scope = torch.NewDisposeScope();
        var mask = SequenceNetwork.Mask(lengths, input.shape[1]).unsqueeze(2);
        var masked = input.masked_fill(mask.logical_not(), float.NegativeInfinity);
        var pooledLengths = (lengths + (Size - 1)).div(Size, rounding_mode: RoundingMode.floor);
        var pooled = SequenceNetwork.ZeroPadding(forward(masked).nan_to_num(0, 0, 0), pooledLengths);
        return (pooled.MoveToOuterDisposeScope(), pooledLengths.MoveToOuterDisposeScope());
    }
}

/// <summary>A sequence [N, T, F] to one vector [N, F] over each row's valid steps.</summary>
internal sealed class SequencePooling : nn.Module<Tensor, Tensor>, ISequenceModule
{
    private readonly Linear? attention;
    private readonly Linear? score;

    public SequencePooling(SequencePoolingMode mode, long features, long attentionSize)
        : base("sequence_pooling")
    {
        Mode = mode;
        if (mode == SequencePoolingMode.Attention)
        {
            attention = nn.Linear(features, attentionSize);
            score = nn.Linear(attentionSize, 1, hasBias: false);
        }

        RegisterComponents();
    }

    public SequencePoolingMode Mode { get; }

    internal Linear? Attention => attention;

    internal Linear? Score => score;

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var lengths = torch.full([input.shape[0]], input.shape[1], ScalarType.Int64, device: input.device);
        return Forward(input, lengths).Output.MoveToOuterDisposeScope();
    }

    public (Tensor Output, Tensor Lengths) Forward(Tensor input, Tensor lengths)
    {
        using var scope = torch.NewDisposeScope();
        var mask = SequenceNetwork.Mask(lengths, input.shape[1]);
        Tensor output;
        switch (Mode)
        {
            case SequencePoolingMode.Last:
                var index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, input.shape[2]);
                output = input.gather(1, index).squeeze(1);
                break;
            case SequencePoolingMode.Mean:
                output = (input * mask.unsqueeze(2).to(input.dtype)).sum(1) / lengths.unsqueeze(1).to(input.dtype);
                break;
            case SequencePoolingMode.Max:
                output = input.masked_fill(mask.logical_not().unsqueeze(2), float.NegativeInfinity).amax([1L]);
                break;
            default:
                var energies = score!.forward(torch.tanh(attention!.forward(input))).squeeze(2);
                var weights = torch.softmax(energies.masked_fill(mask.logical_not(), float.NegativeInfinity), 1);
                output = (weights.unsqueeze(2) * input).sum(1);
                break;
        }

        return (output.MoveToOuterDisposeScope(), lengths);
    }
}
