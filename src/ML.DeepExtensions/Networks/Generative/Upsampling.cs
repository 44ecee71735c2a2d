using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Generative;

/// <summary>Enlarges images by an integer factor: nearest neighbour, or bilinear with torch's <c>align_corners = false</c>.</summary>
public sealed class Upsampling : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="scale">The factor for height and width.</param>
    /// <param name="bilinear">Bilinear instead of nearest-neighbour interpolation.</param>
    /// <param name="name">Module name.</param>
    public Upsampling(int scale, bool bilinear, string name = "upsampling")
        : base(name)
    {
        Scale = scale;
        Bilinear = bilinear;
        RegisterComponents();
    }

    /// <summary>The factor for height and width.</summary>
    public int Scale { get; }

    /// <summary>Whether interpolation is bilinear (else nearest neighbour).</summary>
    public bool Bilinear { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Bilinear
            ? nn.functional.interpolate(input, scale_factor: [Scale, Scale], mode: InterpolationMode.Bilinear, align_corners: false)
            : nn.functional.interpolate(input, scale_factor: [Scale, Scale], mode: InterpolationMode.Nearest);
    }
}
