using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Generative;

/// <summary>
/// A learned vector per class, appended to the rest of the row: <c>[N, F + 1]</c> whose last column
/// holds the 0-based class index → <c>[N, F + dimensions]</c>. It keeps a conditional generator a
/// one-input network (noise and label travel in one tensor), so it is built, exported and checkpointed
/// like any other layer list.
/// </summary>
public sealed class LabelEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding embedding;

    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Number of classes.</param>
    /// <param name="dimensions">Length of each class vector.</param>
    /// <param name="name">Module name.</param>
    public LabelEmbedding(int classes, int dimensions, string name = "label_embedding")
        : base(name)
    {
        Classes = classes;
        Dimensions = dimensions;
        embedding = nn.Embedding(classes, dimensions);
        RegisterComponents();
    }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Length of each class vector.</summary>
    public int Dimensions { get; }

    /// <summary>The class vectors <c>[classes, dimensions]</c>.</summary>
    public Tensor Weight => embedding.weight!;

    /// <summary>Splits off the last column, looks its class up and appends the class vector.</summary>
    /// <exception cref="ArgumentException">A class index outside [0, classes).</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        long features = input.shape[^1] - 1;
        var rest = input.narrow(-1, 0, features);
        var labels = input.narrow(-1, features, 1).squeeze(-1).round().to(ScalarType.Int64);
        if (labels.numel() > 0)
        {
            long min = labels.min().item<long>();
            long max = labels.max().item<long>();
            if (min < 0 || max >= Classes)
            {
                throw new ArgumentException($"LabelEmbedding({Classes}) got a class index {(min < 0 ? min : max)}; it needs indices in [0, {Classes}).", nameof(input));
            }
        }

        return cat([rest, embedding.forward(labels)], -1).MoveToOuterDisposeScope();
    }
}
