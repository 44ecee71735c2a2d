using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Feature standardisation as a network layer: <c>(x - mean) * inverseStd</c> per feature. The
/// statistics are computed from the training data before training and stored as buffers, so they
/// are saved with the weights and exported to ONNX with the model.
/// </summary>
public sealed class Standardization : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer from per-feature means and standard deviations.</summary>
    /// <param name="mean">Per-feature means.</param>
    /// <param name="std">Per-feature standard deviations; zeros (constant features) are treated as one.</param>
    /// <param name="name">Module name.</param>
    public Standardization(float[] mean, float[] std, string name = "standardization")
        : this(mean, InverseOf(std, mean), name, inverseGiven: true)
    {
    }

    private Standardization(float[] mean, float[] inverse, string name, bool inverseGiven)
        : base(name)
    {
        _ = inverseGiven;
        // Buffers, not cached fields: Module.to(device) replaces registered buffers.
        register_buffer("mean", tensor(mean).DetachFromDisposeScope());
        register_buffer("inverse_std", tensor(inverse).DetachFromDisposeScope());
    }

    /// <summary>
    /// The layer <c>x * scale + offset</c> (the inverse of a standardisation), for any finite scale:
    /// the regression trainers map a standardised output back to label units with it, and a label's
    /// standard deviation may be far beyond what <c>1 / std</c> of the public constructor accepts.
    /// </summary>
    internal static Standardization Rescale(double offset, double scale, string name) =>
        new([(float)(-offset / scale)], [(float)scale], name, inverseGiven: true);

    private static float[] InverseOf(float[] std, float[] mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length != std.Length)
        {
            throw new ArgumentException($"mean has {mean.Length} values but std has {std.Length}.", nameof(std));
        }

        return std.Select(s => s > 1e-12f && float.IsFinite(s) ? 1f / s : 1f).ToArray();
    }

    /// <summary>Number of features.</summary>
    public int FeatureCount => (int)Mean.shape[0];

    /// <summary>The per-feature means (a buffer of this module).</summary>
    public Tensor Mean => get_buffer("mean")!;

    /// <summary>The per-feature reciprocal standard deviations (a buffer of this module).</summary>
    public Tensor InverseStd => get_buffer("inverse_std")!;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => (input - Mean) * InverseStd;
}
