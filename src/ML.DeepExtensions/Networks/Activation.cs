using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>Activation functions a network builder can place after a layer.</summary>
public enum Activation
{
    /// <summary>max(0, x).</summary>
    Relu,

    /// <summary>Leaky ReLU with slope 0.01 for negative inputs.</summary>
    LeakyRelu,

    /// <summary>Exponential linear unit.</summary>
    Elu,

    /// <summary>Gaussian error linear unit (exact, erf form).</summary>
    Gelu,

    /// <summary>x · sigmoid(x), also called swish.</summary>
    Silu,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,

    /// <summary>Logistic sigmoid.</summary>
    Sigmoid,
}

/// <summary>Creates the TorchSharp module for an <see cref="Activation"/>.</summary>
public static class Activations
{
    /// <summary>The module computing <paramref name="activation"/>.</summary>
    public static nn.Module<Tensor, Tensor> Create(Activation activation) => activation switch
    {
        Activation.Relu => nn.ReLU(),
        Activation.LeakyRelu => nn.LeakyReLU(0.01),
        Activation.Elu => nn.ELU(),
        Activation.Gelu => nn.GELU(),
        Activation.Silu => nn.SiLU(),
        Activation.Tanh => nn.Tanh(),
        Activation.Sigmoid => nn.Sigmoid(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };
}
