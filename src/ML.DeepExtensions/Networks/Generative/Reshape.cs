using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Generative;

/// <summary>Reshapes each row, keeping the batch dimension: <c>[N, ..]</c> → <c>[N, ..shape]</c> (a generator's [F] → [C, H, W]).</summary>
public sealed class Reshape : nn.Module<Tensor, Tensor>
{
    private readonly long[] _shape;

    /// <summary>Creates the layer.</summary>
    /// <param name="shape">The per-row shape; its element count must equal the input row's.</param>
    /// <param name="name">Module name.</param>
    public Reshape(long[] shape, string name = "reshape")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = [.. shape];
        RegisterComponents();
    }

    /// <summary>The per-row output shape.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.reshape([input.shape[0], .. _shape]);
    }
}
