namespace ML.DeepExtensions.Data;

/// <summary>
/// Consumed batches on their way back from the consumer to the reader. When the reader has to wait,
/// it waits for several at once: a reader faster than training then wakes once per several batches
/// instead of once per batch, which on a machine whose cores are busy with the training step saves
/// both the context switches and the step time they take away.
/// </summary>
internal sealed class ReturnedBatches
{
    private readonly object _gate = new();
    private readonly Stack<SlotBatch> _batches = new();
    private int _wanted;

    /// <summary>Called by the consumer once a batch's rows have been copied into tensors.</summary>
    public void Add(SlotBatch batch)
    {
        lock (_gate)
        {
            _batches.Push(batch);
            if (_wanted > 0 && _batches.Count >= _wanted)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>
    /// Hands every returned batch to <paramref name="recycle"/>, first waiting until at least
    /// <paramref name="minimum"/> have come back.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="token"/> was cancelled while waiting.</exception>
    public void TakeAll(int minimum, Action<SlotBatch> recycle, CancellationToken token)
    {
        lock (_gate)
        {
            if (_batches.Count >= minimum)
            {
                Drain(recycle);
                return;
            }
        }

        // Registered outside the lock: disposing a registration waits for a running callback, which
        // itself takes the lock.
        using var registration = token.UnsafeRegister(static state => ((ReturnedBatches)state!).WakeAll(), this);
        lock (_gate)
        {
            _wanted = minimum;
            try
            {
                while (_batches.Count < minimum)
                {
                    token.ThrowIfCancellationRequested();
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                _wanted = 0;
            }

            Drain(recycle);
        }
    }

    private void Drain(Action<SlotBatch> recycle)
    {
        while (_batches.Count > 0)
        {
            recycle(_batches.Pop());
        }
    }

    private void WakeAll()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }
}
