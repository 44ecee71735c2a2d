using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Generative;

/// <summary>
/// Spectral normalisation (Miyato et al. 2018) of a <c>Conv2d</c>, <c>ConvTranspose2d</c> or <c>Linear</c>:
/// the wrapped layer computes with <c>W / σ(W)</c>, σ estimated by one power iteration per
/// training-mode forward, as PyTorch's <c>spectral_norm</c> does. The raw weight stays the wrapped
/// layer's parameter (<c>module.weight</c>); the power-iteration vectors are buffers <c>u</c> and
/// <c>v</c>, so checkpoints carry them. In eval mode σ comes from the stored vectors without
/// updating them, and the ONNX export writes the normalised weight.
/// </summary>
public sealed class SpectralNormalization : nn.Module<Tensor, Tensor>
{
    private const double Epsilon = 1e-12;

    private readonly nn.Module<Tensor, Tensor> module;
    private readonly Tensor u;
    private readonly Tensor v;

    /// <summary>Wraps <paramref name="layer"/>.</summary>
    /// <param name="layer">A <c>Conv2d</c>, <c>ConvTranspose2d</c> or <c>Linear</c>.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentException">Another module type.</exception>
    public SpectralNormalization(nn.Module<Tensor, Tensor> layer, string name = "spectral_normalization")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        module = layer;
        Tensor weight = layer switch
        {
            Conv2d conv => conv.weight!,
            ConvTranspose2d transposed => transposed.weight!,
            Linear linear => linear.weight!,
            _ => throw new ArgumentException($"Spectral normalisation wraps Conv2d, ConvTranspose2d or Linear, not {layer.GetType().Name}.", nameof(layer)),
        };

        // ConvTranspose2d stores [in, out, kh, kw]: its output dimension is the second (as in PyTorch).
        OutputDimension = layer is ConvTranspose2d ? 1 : 0;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var matrix = Matrix(weight);
            u = nn.functional.normalize(randn(matrix.shape[0]), p: 2, dim: 0, eps: Epsilon).DetachFromDisposeScope();
            v = nn.functional.normalize(randn(matrix.shape[1]), p: 2, dim: 0, eps: Epsilon).DetachFromDisposeScope();
        }

        register_buffer("u", u);
        register_buffer("v", v);
        RegisterComponents();
    }

    /// <summary>The wrapped layer, whose <c>weight</c> is the unnormalised parameter.</summary>
    public nn.Module<Tensor, Tensor> Layer => module;

    /// <summary>The weight dimension that indexes outputs (1 for ConvTranspose2d, else 0).</summary>
    public int OutputDimension { get; }

    /// <summary>The current <c>W / σ(W)</c> from the stored power-iteration vectors (no update).</summary>
    public Tensor NormalizedWeight()
    {
        using var scope = NewDisposeScope();
        var weight = RawWeight;
        var sigma = u.dot(Matrix(weight).mv(v));
        return (weight / sigma).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var weight = RawWeight;
        if (training)
        {
            using var noGrad = no_grad();
            var matrix = Matrix(weight);
            var newV = nn.functional.normalize(matrix.t().mv(u), p: 2, dim: 0, eps: Epsilon);
            var newU = nn.functional.normalize(matrix.mv(newV), p: 2, dim: 0, eps: Epsilon);
            v.copy_(newV);
            u.copy_(newU);
        }

        // Clones in training mode: a second forward before backward (a discriminator sees real and
        // generated batches) updates the vectors in place, which the first graph must not see.
        var (left, right) = training ? (u.clone(), v.clone()) : (u, v);
        var sigma = left.dot(Matrix(weight).mv(right));
        var normalized = weight / sigma;
        var output = module switch
        {
            Conv2d conv => nn.functional.conv2d(input, normalized, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups),
            ConvTranspose2d transposed => nn.functional.conv_transpose2d(
                input, normalized, transposed.bias, transposed.stride, transposed.padding, transposed.output_padding, transposed.dilation, transposed.groups),
            Linear linear => nn.functional.linear(input, normalized, linear.bias),
            _ => throw new InvalidOperationException("unreachable"),
        };
        return output.MoveToOuterDisposeScope();
    }

    private Tensor RawWeight => module switch
    {
        Conv2d conv => conv.weight!,
        ConvTranspose2d transposed => transposed.weight!,
        Linear linear => linear.weight!,
        _ => throw new InvalidOperationException("unreachable"),
    };

    private Tensor Matrix(Tensor weight) => OutputDimension == 0
        ? weight.reshape(weight.shape[0], -1)
        : weight.transpose(0, 1).reshape(weight.shape[1], -1);
}
