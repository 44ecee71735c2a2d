using ML.DeepExtensions.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Data;

/// <summary>The contents of one epoch, copied out of the tensors.</summary>
internal sealed class EpochData
{
    public List<int> BatchSizes { get; } = [];

    public Dictionary<string, List<float>> Floats { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<long>> Longs { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long[]> FirstShapes { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ScalarType> Types { get; } = new(StringComparer.Ordinal);

    public int RowCount => BatchSizes.Sum();

    public float[] F(string role) => Floats[role].ToArray();

    public long[] L(string role) => Longs[role].ToArray();

    /// <summary>Reads every batch of an epoch inside one dispose scope.</summary>
    public static EpochData Read(IBatchSource source, int epoch = 0)
    {
        var data = new EpochData();
        using var scope = NewDisposeScope();
        foreach (var batch in source.GetBatches(epoch))
        {
            data.BatchSizes.Add(batch.RowCount);
            foreach (string name in batch.Names)
            {
                var tensor = batch[name];
                Assert.AreEqual(batch.RowCount, tensor.shape[0], $"first dimension of '{name}'");
                data.FirstShapes.TryAdd(name, tensor.shape);
                data.Types[name] = tensor.dtype;
                if (tensor.dtype == ScalarType.Int64)
                {
                    (data.Longs.TryGetValue(name, out var list) ? list : data.Longs[name] = []).AddRange(tensor.data<long>().ToArray());
                }
                else
                {
                    (data.Floats.TryGetValue(name, out var list) ? list : data.Floats[name] = []).AddRange(tensor.data<float>().ToArray());
                }
            }
        }

        return data;
    }
}
