using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Data;

/// <summary>One epoch of a <see cref="DataViewBatchSource"/>; each enumeration reads the data afresh.</summary>
internal sealed class EpochBatches(DataViewBatchSource source, int epoch, CancellationToken cancellationToken) : IEnumerable<TensorBatch>
{
    public IEnumerator<TensorBatch> GetEnumerator() => new PrefetchingBatchEnumerator(source, epoch, cancellationToken);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Reads an epoch on a producer thread and hands out tensors on the consumer thread.
/// </summary>
/// <remarks>
/// The producer owns the cursor: it reads rows into pooled <see cref="RowStore"/>s and queues full
/// ones. <see cref="MoveNext"/> takes a queued store, copies it into new tensors (so they belong to
/// the caller's current dispose scope, which is per thread) and gives the store back. The pool holds
/// <c>PrefetchBatches + 1</c> stores, so the producer runs at most that far ahead; it waits for a free
/// store, which is also where cancellation or <see cref="Dispose"/> stops it.
/// </remarks>
internal sealed class PrefetchingBatchEnumerator : IEnumerator<TensorBatch>
{
    private readonly DataViewBatchSource _source;
    private readonly int _epoch;
    private readonly CancellationToken _cancellationToken;
    private readonly CancellationTokenSource _stop;
    private readonly BlockingCollection<RowStore> _free = new();
    private readonly BlockingCollection<RowStore> _ready = new();
    private readonly List<RowStore> _stores = [];
    private readonly ColumnBinding[] _bindings;
    private readonly int _batchSize;
    private Thread? _producer;
    private RowStore? _filling;
    private ExceptionDispatchInfo? _error;
    private TensorBatch? _current;
    private bool _finished;
    private bool _disposed;

    public PrefetchingBatchEnumerator(DataViewBatchSource source, int epoch, CancellationToken cancellationToken)
    {
        _source = source;
        _epoch = epoch;
        _cancellationToken = cancellationToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _bindings = source.Bindings;
        _batchSize = source.Options.BatchSize;
    }

    public TensorBatch Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    object IEnumerator.Current => Current;

    /// <summary>The producer thread, for tests that check it stops.</summary>
    internal Thread? ProducerThread => _producer;

    public bool MoveNext()
    {
        _current = null;
        if (_finished || _disposed)
        {
            return false;
        }

        _cancellationToken.ThrowIfCancellationRequested();
        if (_producer is null)
        {
            Start();
        }

        if (!_ready.TryTake(out var store, Timeout.Infinite, _cancellationToken))
        {
            // The producer completed: either the epoch is over or it failed.
            _finished = true;
            _error?.Throw();
            return false;
        }

        try
        {
            _current = ToTensors(store);
        }
        finally
        {
            store.Count = 0;
            _free.Add(store);
        }

        return true;
    }

    public void Reset() => throw new NotSupportedException("Ask the batch source for a new enumeration instead.");

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        // The producer checks the token for every row and while waiting for a store, so this is prompt
        // unless the data view itself blocks inside MoveNext or a getter.
        _producer?.Join();
        _source.ReturnBatchStores(_stores);
        _stop.Dispose();
        _free.Dispose();
        _ready.Dispose();
    }

    private void Start()
    {
        int poolSize = _source.Options.PrefetchBatches + 1;
        for (int i = 0; i < poolSize; i++)
        {
            var store = _source.RentBatchStore();
            _stores.Add(store);
            _free.Add(store);
        }

        _producer = new Thread(Produce)
        {
            IsBackground = true,
            Name = "DataViewBatchSource reader",
        };
        _producer.Start();
    }

    private TensorBatch ToTensors(RowStore store)
    {
        int rows = store.Count;
        var tensors = new Dictionary<string, Tensor>(_bindings.Length, StringComparer.Ordinal);
        foreach (var binding in _bindings)
        {
            var shape = new long[binding.RowShape.Length + 1];
            shape[0] = rows;
            binding.RowShape.CopyTo(shape, 1);
            int count = rows * binding.Width;
            Tensor tensor;
            if (binding.Storage == StorageKind.Float32)
            {
                tensor = empty(shape, ScalarType.Float32);
                MemoryMarshal.AsBytes(store.Floats[binding.StorageIndex].AsSpan(0, count)).CopyTo(tensor.bytes);
            }
            else
            {
                tensor = empty(shape, ScalarType.Int64);
                MemoryMarshal.AsBytes(store.Longs[binding.StorageIndex].AsSpan(0, count)).CopyTo(tensor.bytes);
            }

            tensors.Add(binding.Role, tensor);
        }

        return new TensorBatch(rows, tensors);
    }

    private void Produce()
    {
        var token = _stop.Token;
        RowStore? shuffleStore = null;
        try
        {
            using var scanner = new RowScanner(_source.Data, _bindings, _source.Options.MissingValues, _source.Selection);
            long rows = 0;
            if (_source.ShuffleEnabled)
            {
                shuffleStore = _source.RentShuffleStore();
                var buffer = new ShuffleBuffer(shuffleStore, _source.ShuffleBufferSize, SplitMix64.ForEpoch(_source.Options.Seed, _epoch));
                while (!token.IsCancellationRequested && scanner.MoveNext())
                {
                    if (!scanner.TryRead(shuffleStore, buffer.FreeRow))
                    {
                        continue;
                    }

                    rows++;
                    if (buffer.Add(out int emitRow))
                    {
                        Emit(shuffleStore, emitRow, token);
                    }
                }

                while (!token.IsCancellationRequested && buffer.TryDrain(out int emitRow))
                {
                    Emit(shuffleStore, emitRow, token);
                }
            }
            else
            {
                while (!token.IsCancellationRequested && scanner.MoveNext())
                {
                    _filling ??= _free.Take(token);
                    if (!scanner.TryRead(_filling, _filling.Count))
                    {
                        continue;
                    }

                    rows++;
                    if (++_filling.Count == _batchSize)
                    {
                        Publish();
                    }
                }
            }

            if (token.IsCancellationRequested)
            {
                return;
            }

            if (_filling is { Count: > 0 } && !_source.Options.DropLastPartialBatch)
            {
                Publish();
            }

            _source.ObserveRowCount(rows);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped by the consumer or its token: nothing to report.
        }
        catch (Exception ex)
        {
            // Rethrown on the consumer thread with its original type, message and stack.
            _error = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            _filling = null;
            if (shuffleStore is not null)
            {
                _source.ReturnShuffleStore(shuffleStore);
            }

            _ready.CompleteAdding();
        }
    }

    private void Emit(RowStore source, int row, CancellationToken token)
    {
        _filling ??= _free.Take(token);
        _filling.CopyRowFrom(source, row, _filling.Count);
        if (++_filling.Count == _batchSize)
        {
            Publish();
        }
    }

    private void Publish()
    {
        _ready.Add(_filling!);
        _filling = null;
    }
}
