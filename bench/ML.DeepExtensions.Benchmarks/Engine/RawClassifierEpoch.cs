using System.Diagnostics;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>One epoch of a hand-written TorchSharp classification loop over tensors built beforehand: AdamW 1e-3, cross-entropy, a fresh order, a dispose scope per batch.</summary>
internal static class RawClassifierEpoch
{
    /// <summary>Trains <paramref name="network"/> (then disposes it) for one epoch and returns rows per second.</summary>
    public static double RowsPerSecond(nn.Module<Tensor, Tensor> network, Tensor inputs, Tensor targets, int batchSize)
    {
        using var optimizer = optim.AdamW(network.parameters(), 1e-3);
        network.train();
        long rows = inputs.shape[0];
        var stopwatch = Stopwatch.StartNew();
        using (var order = randperm(rows))
        {
            for (long start = 0; start < rows; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var index = order.narrow(0, start, Math.Min(batchSize, rows - start));
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(network.forward(inputs.index_select(0, index)), targets.index_select(0, index));
                loss.backward();
                optimizer.step();
                _ = loss.item<float>();
            }
        }

        double seconds = stopwatch.Elapsed.TotalSeconds;
        network.Dispose();
        return rows / seconds;
    }
}
