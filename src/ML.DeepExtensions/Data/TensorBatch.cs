using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Data;

/// <summary>
/// One mini-batch as named tensors, created in the dispose scope that was current when the batch
/// source produced it. The training engine opens a scope per batch, so a batch's tensors are freed
/// when its step ends.
/// </summary>
public sealed class TensorBatch
{
    private readonly Dictionary<string, Tensor> _tensors;

    /// <summary>Creates a batch from named tensors whose first dimension is <paramref name="rowCount"/>.</summary>
    public TensorBatch(int rowCount, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        RowCount = rowCount;
        _tensors = new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal);
    }

    /// <summary>Number of rows (the size of every tensor's first dimension).</summary>
    public int RowCount { get; }

    /// <summary>The names of the tensors in this batch (the roles given to the batch source).</summary>
    public IEnumerable<string> Names => _tensors.Keys;

    /// <summary>The tensor for a role, for example <see cref="BatchRoles.Features"/>.</summary>
    /// <exception cref="KeyNotFoundException">The batch has no tensor with that name.</exception>
    public Tensor this[string name] => _tensors.TryGetValue(name, out var tensor)
        ? tensor
        : throw new KeyNotFoundException($"The batch has no tensor named '{name}'. It has: {string.Join(", ", _tensors.Keys)}.");

    /// <summary>Gets the tensor for a role if the batch has one.</summary>
    public bool TryGet(string name, out Tensor tensor) => _tensors.TryGetValue(name, out tensor!);

    /// <summary>The features tensor, a shortcut for <c>this[BatchRoles.Features]</c>.</summary>
    public Tensor Features => this[BatchRoles.Features];

    /// <summary>The label tensor, a shortcut for <c>this[BatchRoles.Label]</c>.</summary>
    public Tensor Label => this[BatchRoles.Label];
}

/// <summary>Well-known tensor names in a <see cref="TensorBatch"/>.</summary>
public static class BatchRoles
{
    /// <summary>The model input.</summary>
    public const string Features = "Features";

    /// <summary>The training target.</summary>
    public const string Label = "Label";

    /// <summary>Per-row weights, when the data has a weight column.</summary>
    public const string Weight = "Weight";
}
