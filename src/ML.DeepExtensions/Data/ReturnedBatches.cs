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
    /// <paramref name="minimum"/> have come back, or until <paramref name="timeout"/> has passed.
    /// </summary>
    /// <returns>False when the timeout passed first (then nothing was taken).</returns>
    /// <exception cref="OperationCanceledException"><paramref name="token"/> was cancelled while waiting.</exception>
    public bool TakeAll(int minimum, Action<SlotBatch> recycle, TimeSpan timeout, CancellationToken token)
    {
        lock (_gate)
        {
            if (_batches.Count >= minimum)
            {
                Drain(recycle);
                return true;
            }
        }

        // Registered outside the lock: disposing a registration waits for a running callback, which
        // itself takes the lock.
        using var registration = token.UnsafeRegister(static state => ((ReturnedBatches)state!).WakeAll(), this);
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            _wanted = minimum;
            try
            {
                while (_batches.Count < minimum)
                {
                    token.ThrowIfCancellationRequested();
                    long left = deadline - Environment.TickCount64;
                    if (left <= 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_gate, deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Min(left, int.MaxValue));
                }
            }
            finally
            {
                _wanted = 0;
            }

            Drain(recycle);
            return true;
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
