using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Sequence;

/// <summary>
/// A module of a sequence network that needs each row's valid length: it receives a padded batch
/// <c>[N, T, F]</c> (or token ids <c>[N, T]</c>) with the lengths <c>[N]</c> (int64, at least 1) and
/// returns its output with the lengths that output has. Steps at or beyond a row's length are padding:
/// they never change a valid output, and the module leaves them at zero.
/// </summary>
internal interface ISequenceModule
{
    (Tensor Output, Tensor Lengths) Forward(Tensor input, Tensor lengths);
}

/// <summary>
/// The root of a network whose layers include sequence layers: the children <c>layer0</c> …
/// <c>output</c> run in order like a Sequential, but the row lengths travel beside the values, so
/// each <see cref="ISequenceModule"/> masks padded steps. Token networks (first layer an embedding)
/// take int64 ids <c>[N, T]</c> padded with 0 and a row's length is its count of non-padding ids (at
/// least 1: an empty text is one padding step); numeric networks take <c>[N, T, F]</c> rows of full length.
/// </summary>
internal sealed class SequenceNetwork : nn.Module<Tensor, Tensor>
{
    private readonly List<(string Name, nn.Module<Tensor, Tensor> Module)> _children;

    public SequenceNetwork(IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> children, bool tokens)
        : base("sequence_network")
    {
        _children = [.. children];
        Tokens = tokens;
        foreach (var (name, module) in _children)
        {
            register_module(name, module);
        }
    }

    /// <summary>Whether the input is token ids (padding id 0) rather than numeric steps.</summary>
    public bool Tokens { get; }

    public IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> Layers => _children;

    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = torch.NewDisposeScope();
        var lengths = Lengths(input);
        var current = Tokens ? input.to(ScalarType.Int64) : input;
        foreach (var (_, module) in _children)
        {
            if (module is ISequenceModule sequence)
            {
                (current, lengths) = sequence.Forward(current, lengths);
            }
            else
            {
                current = module.forward(current);
            }
        }

        return current.MoveToOuterDisposeScope();
    }

    /// <summary>Each row's valid length: non-padding ids of a token row (at least 1), or every step of a numeric row.</summary>
    public Tensor Lengths(Tensor input)
    {
        if (Tokens)
        {
            if (input.dim() != 2)
            {
                throw new ArgumentException($"A token network expects ids [N, T] but got shape [{string.Join(", ", input.shape)}].", nameof(input));
            }

            return input.ne(0).sum(1, type: ScalarType.Int64).clamp_min(1);
        }

        if (input.dim() != 3)
        {
            throw new ArgumentException($"A sequence network expects steps [N, T, F] but got shape [{string.Join(", ", input.shape)}].", nameof(input));
        }

        return torch.full([input.shape[0]], input.shape[1], ScalarType.Int64, device: input.device);
    }

    /// <summary>[N, T] true where the step is valid.</summary>
    internal static Tensor Mask(Tensor lengths, long steps) =>
        torch.arange(steps, device: lengths.device).unsqueeze(0).lt(lengths.unsqueeze(1));

    /// <summary>Zeroes the padded steps of <paramref name="values"/> [N, T, F].</summary>
    internal static Tensor ZeroPadding(Tensor values, Tensor lengths) =>
        values * Mask(lengths, values.shape[1]).unsqueeze(2).to(values.dtype);
}
