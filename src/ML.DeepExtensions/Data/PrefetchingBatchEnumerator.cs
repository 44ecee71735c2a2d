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
    public IEnumerator<TensorBatch> GetEnumerator() => source.OpenEpoch(epoch, cancellationToken);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The rows of one batch: slots of the reader's <see cref="RowStore"/>, in batch order.</summary>
internal sealed class SlotBatch(int batchSize)
{
    public int[] Slots { get; } = new int[batchSize];

    public int Count { get; set; }
}

/// <summary>
/// Reads an epoch on a producer thread and hands out tensors on the consumer thread.
/// </summary>
/// <remarks>
/// <para>
/// The producer owns the cursor and a pooled <see cref="RowStore"/> of row slots. It reads each row
/// once, into a free slot, and either queues the slot in a batch (no shuffling) or passes it through
/// the <see cref="ShuffleBuffer"/>, which returns the slot to emit. Full batches (lists of slots) go to
/// a queue. <see cref="MoveNext"/> takes a batch and gathers its slots straight into new tensors, so
/// a row is copied exactly twice: from the data view into its slot, and from the slot into the tensor
/// (which the caller's current dispose scope owns, scopes being per thread). It then hands the batch
/// back, and the producer reuses its slots.
/// </para>
/// <para>
/// There are <c>PrefetchBatches + 1</c> batch objects and just enough slots for the shuffle buffer
/// plus those batches, so the producer runs at most that far ahead. It blocks only waiting for
/// batches to come back (see <see cref="ReturnedBatches"/>), which is also where cancellation or
/// <see cref="Dispose"/> stops it; between rows it checks the token.
/// </para>
/// <para>
/// A prepared next epoch (<see cref="BatchSourceOptions.PrepareNextEpoch"/>) is an enumerator started
/// without a consumer. <see cref="TryAdopt"/> hands it to the caller of <c>GetBatches</c>; until then
/// its producer waits at most <see cref="DataViewBatchSource.PreparedEpochLifetime"/> for batches to
/// come back, and then stops, closing its cursor.
/// </para>
/// </remarks>
internal sealed class PrefetchingBatchEnumerator : IEnumerator<TensorBatch>
{
    private readonly DataViewBatchSource _source;
    private readonly int _epoch;
    private readonly CancellationTokenSource _stop;
    private readonly object _gate = new();
    private readonly BlockingCollection<SlotBatch> _ready = new();
    private readonly ReturnedBatches _returned = new();
    private readonly Action<SlotBatch> _recycle;
    private readonly ColumnBinding[] _bindings;
    private readonly int _batchSize;
    private readonly int _batchCapacity;
    private readonly int _batchCount;
    private RowStore? _store;
    private Thread? _producer;
    private ExceptionDispatchInfo? _error;
    private TensorBatch? _current;
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _adoptedToken;
    private bool _finished;
    private bool _disposed;

    // Guarded by _gate: whether a consumer owns this enumeration, whether the producer has read the
    // whole cursor, whether the next epoch was prepared, and whether an unclaimed producer gave up.
    private bool _adopted;
    private bool _readingDone;
    private bool _nextPrepared;
    private bool _expired;

    // Producer-only state.
    private readonly Stack<SlotBatch> _spareBatches = new();
    private int[] _freeSlots = [];
    private int _freeCount;
    private int _nextFreshSlot;
    private int _totalSlots;

    /// <param name="source">The batch source.</param>
    /// <param name="epoch">The epoch, which seeds the shuffle.</param>
    /// <param name="adopted">False for a prepared next epoch that no consumer has asked for yet.</param>
    /// <param name="cancellationToken">The consumer's token; none for a prepared epoch until adopted.</param>
    public PrefetchingBatchEnumerator(DataViewBatchSource source, int epoch, bool adopted, CancellationToken cancellationToken)
    {
        _source = source;
        _epoch = epoch;
        _cancellationToken = cancellationToken;
        _adopted = adopted;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _bindings = source.Bindings;
        _batchSize = source.Options.BatchSize;
        // A batch never holds more rows than the epoch has: a BatchSize beyond the data (up to
        // int.MaxValue) then costs no memory and gives one batch of every row.
        _batchCapacity = source.RowCount is { } rows ? (int)Math.Clamp(rows, 1, _batchSize) : _batchSize;
        _batchCount = source.PrefetchBatches + 1;
        _recycle = Recycle;
    }

    public TensorBatch Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    object IEnumerator.Current => Current;

    /// <summary>The producer thread, for tests that check it stops.</summary>
    internal Thread? ProducerThread => _producer;

    /// <summary>The epoch this enumeration reads.</summary>
    public int Epoch => _epoch;

    /// <summary>Starts reading before any consumer asks: a prepared next epoch.</summary>
    public void StartEarly() => Start();

    /// <summary>
    /// Makes a prepared epoch the caller's enumeration, cancelled by <paramref name="cancellationToken"/>
    /// from now on. False if its producer already gave up waiting; the caller then starts afresh.
    /// </summary>
    public bool TryAdopt(CancellationToken cancellationToken)
    {
        bool prepareNext;
        lock (_gate)
        {
            if (_expired)
            {
                return false;
            }

            _adopted = true;
            prepareNext = _readingDone && !_nextPrepared;
            _nextPrepared |= prepareNext;
        }

        _cancellationToken = cancellationToken;
        _adoptedToken = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _stop);
        if (prepareNext)
        {
            _source.PrepareEpoch(_epoch + 1);
        }

        return true;
    }

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

        if (!_ready.TryTake(out var batch, Timeout.Infinite, _cancellationToken))
        {
            // The producer completed: either the epoch is over or it failed.
            _finished = true;
            _error?.Throw();
            return false;
        }

        try
        {
            _current = ToTensors(batch);
        }
        finally
        {
            _returned.Add(batch);
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
        _adoptedToken.Dispose();
        _stop.Cancel();
        // Prompt: the producer checks the token between rows and while it waits, unless the data view
        // itself blocks inside MoveNext or a getter.
        _producer?.Join();
        if (_store is not null)
        {
            _source.ReturnSlotStore(_store);
        }

        _stop.Dispose();
        _ready.Dispose();
    }

    private void Start()
    {
        _store = _source.RentSlotStore();
        int buffer = _source.ShuffleEnabled ? _source.ShuffleBufferSize : 0;
        // Enough slots for a full shuffle buffer, every batch object full, and the row being read.
        long totalSlots = buffer + ((long)_batchCount * _batchCapacity) + 1;
        if (totalSlots > Array.MaxLength)
        {
            _source.ReturnSlotStore(_store);
            _store = null;
            throw new InvalidOperationException(
                $"BatchSize {_batchSize} with {_batchCount - 1} prefetched batches needs {totalSlots} row slots, more than one array can hold ({Array.MaxLength}), "
                + "and the data view does not report its row count, which would bound a batch. Use a smaller BatchSize or PrefetchBatches.");
        }

        _totalSlots = (int)totalSlots;
        _freeSlots = new int[_totalSlots];
        for (int i = 0; i < _batchCount; i++)
        {
            _spareBatches.Push(new SlotBatch(_batchCapacity));
        }

        _producer = new Thread(Produce)
        {
            IsBackground = true,
            Name = "DataViewBatchSource reader",
        };
        _producer.Start();
    }

    private TensorBatch ToTensors(SlotBatch batch)
    {
        int rows = batch.Count;
        var slots = batch.Slots.AsSpan(0, rows);
        var tensors = new Dictionary<string, Tensor>(_bindings.Length, StringComparer.Ordinal);
        foreach (var binding in _bindings)
        {
            var shape = new long[binding.RowShape.Length + 1];
            shape[0] = rows;
            binding.RowShape.CopyTo(shape, 1);
            Tensor tensor;
            if (binding.Storage == StorageKind.Float32)
            {
                tensor = empty(shape, ScalarType.Float32);
                Gather(_store!.FloatColumn(binding.StorageIndex), binding.Width, slots, MemoryMarshal.Cast<byte, float>(tensor.bytes));
            }
            else
            {
                tensor = empty(shape, ScalarType.Int64);
                Gather(_store!.Int64Column(binding.StorageIndex), binding.Width, slots, MemoryMarshal.Cast<byte, long>(tensor.bytes));
            }

            tensors.Add(binding.Role, tensor);
        }

        return new TensorBatch(rows, tensors);
    }

    /// <summary>Copies the rows of <paramref name="slots"/> in order, one block copy per run of consecutive slots.</summary>
    private static void Gather<T>(T[] source, int width, ReadOnlySpan<int> slots, Span<T> destination)
    {
        if (width == 1)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                destination[i] = source[slots[i]];
            }

            return;
        }

        int row = 0;
        while (row < slots.Length)
        {
            int first = slots[row];
            int run = 1;
            while (row + run < slots.Length && slots[row + run] == first + run)
            {
                run++;
            }

            source.AsSpan(first * width, run * width).CopyTo(destination.Slice(row * width, run * width));
            row += run;
        }
    }

    private void Produce()
    {
        var token = _stop.Token;
        try
        {
            var store = _store!;
            var shuffle = _source.ShuffleEnabled
                ? new ShuffleBuffer(_source.ShuffleBufferSize, SplitMix64.ForEpoch(_source.Options.Seed, _epoch))
                : null;
            SlotBatch? filling = null;
            long rows = 0;
            using (var scanner = new RowScanner(_source.Data, _bindings, _source.Options.MissingValues, _source.Selection))
            {
                int slot = -1;
                while (!token.IsCancellationRequested && scanner.MoveNext())
                {
                    if (slot < 0)
                    {
                        slot = TakeFreeSlot(store, token);
                    }

                    if (!scanner.TryRead(store, slot))
                    {
                        continue; // Skipped: the slot is reused for the next row.
                    }

                    rows++;
                    int emit = shuffle is null ? slot : shuffle.Add(slot);
                    slot = -1;
                    if (emit >= 0)
                    {
                        Emit(ref filling, emit, token);
                    }
                }
            }

            if (token.IsCancellationRequested)
            {
                return;
            }

            _source.ObserveRowCount(rows);
            OnReadingDone();
            while (shuffle is not null && !token.IsCancellationRequested && shuffle.TryDrain(out int emit))
            {
                Emit(ref filling, emit, token);
            }

            if (!token.IsCancellationRequested && filling is { Count: > 0 } && !_source.Options.DropLastPartialBatch)
            {
                _ready.Add(filling, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped by the consumer, its token, or an unclaimed prepared epoch giving up.
        }
        catch (Exception ex)
        {
            // Rethrown on the consumer thread with its original type, message and stack.
            _error = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    /// <summary>The cursor is exhausted: the next epoch can start reading while this one drains.</summary>
    private void OnReadingDone()
    {
        bool prepareNext;
        lock (_gate)
        {
            _readingDone = true;
            prepareNext = _adopted && !_nextPrepared;
            _nextPrepared |= prepareNext;
        }

        if (prepareNext)
        {
            _source.PrepareEpoch(_epoch + 1);
        }
    }

    private void Emit(ref SlotBatch? filling, int slot, CancellationToken token)
    {
        filling ??= TakeBatch(token);
        if (filling.Count == filling.Slots.Length)
        {
            // The capacity is the epoch's row count, so only a view that yields more rows than counted gets here.
            throw new InvalidOperationException(
                $"The data view yielded more rows than the {_batchCapacity} it reported (or yielded in an earlier pass); "
                + "a batch source needs a data view that returns the same rows on every pass.");
        }

        filling.Slots[filling.Count++] = slot;
        if (filling.Count == _batchSize)
        {
            _ready.Add(filling, CancellationToken.None);
            filling = null;
        }
    }

    private SlotBatch TakeBatch(CancellationToken token)
    {
        while (_spareBatches.Count == 0)
        {
            // Every batch is queued or being converted: wait until half of them are back, then
            // refill them in one go. Unclaimed, wait only so long.
            bool adopted = Volatile.Read(ref _adopted);
            if (_returned.TakeAll(Math.Max(1, _batchCount / 2), _recycle, adopted ? Timeout.InfiniteTimeSpan : _source.PreparedEpochLifetime, token))
            {
                break;
            }

            lock (_gate)
            {
                _expired = !_adopted;
            }

            if (_expired)
            {
                _stop.Cancel();
                token.ThrowIfCancellationRequested();
            }
        }

        var batch = _spareBatches.Pop();
        batch.Count = 0;
        return batch;
    }

    private int TakeFreeSlot(RowStore store, CancellationToken token)
    {
        if (_freeCount == 0)
        {
            if (_nextFreshSlot < _totalSlots)
            {
                store.EnsureCapacity(_nextFreshSlot + 1, _totalSlots);
                return _nextFreshSlot++;
            }

            // Every other slot is buffered or in a batch. The slot count leaves one spare, so a
            // returned batch holds free slots and this does not wait.
            _returned.TakeAll(1, _recycle, Timeout.InfiniteTimeSpan, token);
        }

        return _freeSlots[--_freeCount];
    }

    /// <summary>Frees a consumed batch's slots (pushed in reverse, so they are taken in ascending order) and keeps the batch object.</summary>
    private void Recycle(SlotBatch batch)
    {
        for (int i = batch.Count - 1; i >= 0; i--)
        {
            _freeSlots[_freeCount++] = batch.Slots[i];
        }

        batch.Count = 0;
        _spareBatches.Push(batch);
    }
}
