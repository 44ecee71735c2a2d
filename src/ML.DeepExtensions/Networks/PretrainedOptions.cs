using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Start a trainer from a pretrained network instead of random weights (fine-tuning, transfer
/// learning): which network, which of its layers to keep, what to add, and whether its output layer
/// is replaced for the new label set. Set it as <c>Pretrained</c> on the trainer's options:
/// <code>
/// var backbone = PretrainedNetwork.FromModelFile("shoes.zip");
/// var options = new ImageClassifierOptions
/// {
///     Pretrained = new PretrainedOptions { Network = backbone },   // a new output layer for the new classes
///     FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)], // train the head only
/// };
/// </code>
/// </summary>
/// <remarks>
/// <para>
/// The network keeps the pretrained input normalisation (<c>normalize</c>: the pixel scale and channel
/// statistics, or the feature standardisation, of the data it was trained on), so the family's own
/// normalisation settings (<c>PixelScale</c>, <c>NormalizePerChannel</c>, <c>StandardizeFeatures</c>) and
/// its <c>Architecture</c> do not apply. A regression trainer's label rescaling is fitted on the new labels.
/// </para>
/// <para>
/// Freezing (<see cref="TrainingOptions.FrozenLayers"/>), gradual unfreezing (<see cref="GradualUnfreezing"/>),
/// discriminative learning rates (<see cref="TrainingOptions.ParameterGroups"/>) and batch-norm statistics
/// (<see cref="TrainingOptions.FreezeBatchNormStatistics"/>) are the run's options and apply to the
/// fine-tuned network's layers: <c>normalize</c>, <c>layer0</c>… and <c>output</c>.
/// </para>
/// </remarks>
public sealed record PretrainedOptions
{
    /// <summary>The pretrained network (from a model zip, an ONNX model, a checkpoint or a fitted model). It is copied, never changed.</summary>
    public required PretrainedNetwork Network { get; init; }

    /// <summary>
    /// The last described layer kept (<c>layer5</c>: keeps <c>layer0</c> … <c>layer5</c>); the layers after
    /// it and the output layer are dropped. Null (the default) keeps every described layer.
    /// </summary>
    public string? KeepLayersThrough { get; init; }

    /// <summary>New layers, freshly initialised, between the kept layers and the new output layer. Default none.</summary>
    public IReadOnlyList<NetworkLayer> AddedLayers { get; init; } = [];

    /// <summary>
    /// Replace the output layer with a new one sized for the new label set (default true). False
    /// keeps the pretrained output layer (training further on the same classes): its width must equal
    /// the new task's, and every described layer must be kept with none added.
    /// </summary>
    public bool ReplaceOutputLayer { get; init; } = true;

    /// <summary>The number of described layers kept.</summary>
    internal int KeptLayerCount
    {
        get
        {
            var layers = Network.Description.Layers;
            if (KeepLayersThrough is null)
            {
                return layers.Count;
            }

            for (int i = 0; i < layers.Count; i++)
            {
                if (LayerNames.Layer(i) == KeepLayersThrough)
                {
                    return i + 1;
                }
            }

            throw new ArgumentException(
                $"Pretrained.KeepLayersThrough is '{KeepLayersThrough}', which is not a described layer of {Network.Source}. Its layers are: "
                + string.Join(", ", Enumerable.Range(0, layers.Count).Select(i => $"{LayerNames.Layer(i)} ({layers[i].Describe()})")) + ".",
                nameof(KeepLayersThrough));
        }
    }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Network, "Pretrained.Network");
        ArgumentNullException.ThrowIfNull(AddedLayers, "Pretrained.AddedLayers");
        int kept = KeptLayerCount;
        if (!ReplaceOutputLayer && (kept < Network.Description.Layers.Count || AddedLayers.Count > 0))
        {
            throw new ArgumentException(
                "Pretrained.ReplaceOutputLayer is false, but the output layer can be kept only on top of every pretrained layer: "
                + "remove KeepLayersThrough and AddedLayers, or set ReplaceOutputLayer = true.", nameof(ReplaceOutputLayer));
        }
    }
}
