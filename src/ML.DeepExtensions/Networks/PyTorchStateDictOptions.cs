namespace ML.DeepExtensions.Networks;

/// <summary>How a PyTorch <c>state_dict</c> is mapped onto a network of this library (<see cref="PretrainedNetwork.FromPyTorchStateDict"/>).</summary>
public sealed record PyTorchStateDictOptions
{
    /// <summary>
    /// Maps a name in the file to this library's name (for example <see cref="ML.DeepExtensions.Vision.TorchvisionResNet.ParameterName"/>);
    /// null keeps the names. Entries are matched after mapping.
    /// </summary>
    public Func<string, string>? ParameterNames { get; init; }

    /// <summary>The image network's pixel scale (the <c>normalize</c> layer): 1/255 for 0–255 pixels and torchvision's models. Default 1.</summary>
    public float PixelScale { get; init; } = 1f;

    /// <summary>Per-channel means after scaling (torchvision's ImageNet models: 0.485, 0.456, 0.406); null for zeros.</summary>
    public IReadOnlyList<float>? ChannelMean { get; init; }

    /// <summary>Per-channel standard deviations after scaling (torchvision's ImageNet models: 0.229, 0.224, 0.225); null for ones.</summary>
    public IReadOnlyList<float>? ChannelStd { get; init; }

    /// <summary>
    /// Adapt the first convolution when the file's input channels differ from the network's: a 3-channel
    /// backbone on grayscale images sums the weights over the colour channels (a gray image seen as equal
    /// R, G and B gives the same response), a 1-channel backbone on colour images spreads its weights
    /// equally over them; the channel means and deviations are averaged or repeated. Default false.
    /// </summary>
    public bool AdaptInputChannels { get; init; }
}
