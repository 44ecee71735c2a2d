using Microsoft.ML;

namespace ML.DeepExtensions.Data;

/// <summary>
/// Streams mini-batches of tensors from any ML.NET <see cref="IDataView"/>. Rows are read through a
/// cursor over only the bound columns, on a background thread, a few batches ahead of training; the
/// data set is never loaded as a whole, so a data view of any size streams in bounded memory.
/// </summary>
/// <remarks>
/// <para>
/// Each <see cref="BatchColumn"/> becomes one tensor of every batch, named by its role. Column types
/// are checked when the source is created; value problems (NaN, infinity, a missing key) follow
/// <see cref="BatchSourceOptions.MissingValues"/> and name the column and the row position.
/// </para>
/// <para>
/// Shuffling uses a seeded buffer (see <see cref="BatchSourceOptions.ShuffleBufferSize"/>) seeded from
/// (<see cref="BatchSourceOptions.Seed"/>, epoch), so an epoch's order can be reproduced, for example
/// by a resumed training run. <see cref="CreateTrainValidation"/> splits the rows by a hash of the row
/// position, without a pass over the data.
/// </para>
/// <para>
/// Tensors are created on the CPU inside <c>MoveNext</c>, in the dispose scope that is current on the
/// enumerating thread; open a scope per batch (as the training engine does) to free them per step.
/// </para>
/// </remarks>
/// <example>
/// A training loop that frees each step's tensors, the batch's included:
/// <code>
/// var source = new DataViewBatchSource(data,
///     [BatchColumn.Features("Features"), BatchColumn.ClassLabel("Label")],
///     new BatchSourceOptions { BatchSize = 64, Seed = 1 });
/// using var batches = source.GetBatches(epoch).GetEnumerator();
/// while (true)
/// {
///     using var scope = torch.NewDisposeScope(); // open before MoveNext: the batch is created in it
///     if (!batches.MoveNext()) break;
///     var loss = criterion.forward(model.forward(batches.Current.Features), batches.Current.Label);
///     // backward, optimizer step ...
/// }
/// </code>
/// </example>
public sealed class DataViewBatchSource : IBatchSource
{
    private RowStore? _slotStore;
    private PrefetchingBatchEnumerator? _preparedEpoch;
    private long _rowCount;

    /// <summary>Creates a source that reads every row of <paramref name="data"/>.</summary>
    /// <param name="data">The data view to read.</param>
    /// <param name="columns">The column bindings; each becomes one tensor of every batch.</param>
    /// <param name="options">Batching options; the defaults of <see cref="BatchSourceOptions"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or <paramref name="columns"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// A column is missing, has an unsupported type, a shape that does not fit, or a role is repeated.
    /// </exception>
    public DataViewBatchSource(IDataView data, IReadOnlyList<BatchColumn> columns, BatchSourceOptions? options = null)
        : this(data, columns, options ?? new BatchSourceOptions(), RowSelection.All)
    {
    }

    private DataViewBatchSource(IDataView data, IReadOnlyList<BatchColumn> columns, BatchSourceOptions options, RowSelection selection)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(columns);
        Data = data;
        Bindings = ColumnBinding.ResolveAll(data.Schema, columns, nameof(columns));
        Columns = Bindings.Select(b => b.Column).ToArray();
        Options = selection.Subset == RowSubset.Validation
            ? options with { Shuffle = false, DropLastPartialBatch = false }
            : options;
        Selection = selection;

        long? viewRows = data.GetRowCount();
        // The view's own count is this source's count only when every row is kept.
        _rowCount = viewRows is { } n && selection.Subset == RowSubset.All && Options.MissingValues == MissingValuePolicy.Error ? n : -1;

        long bytesPerRow = Math.Max(1, Bindings.Sum(b => (long)b.BytesPerRow));
        long buffer = Options.ShuffleBufferSize ?? Math.Clamp(
            Options.ShuffleBufferBytes / bytesPerRow,
            BatchSourceOptions.MinimumAutomaticShuffleBufferRows,
            BatchSourceOptions.MaximumAutomaticShuffleBufferRows);
        if (viewRows is { } total)
        {
            buffer = Math.Min(buffer, Math.Max(1, total));
        }

        ShuffleBufferSize = (int)buffer;
        PrefetchBatches = Options.PrefetchBatches ?? (int)Math.Clamp(
            BatchSourceOptions.AutomaticPrefetchBytes / (bytesPerRow * Options.BatchSize), 2, 64);
    }

    /// <summary>
    /// Creates a training and a validation source over the same data. Each row goes to validation when
    /// a hash of (<see cref="BatchSourceOptions.Seed"/>, row position) falls below
    /// <paramref name="validationFraction"/>: the split is deterministic, needs no pass over the data
    /// and no memory, and the two sources are disjoint and together cover every row. The validation
    /// source never shuffles and keeps its last partial batch.
    /// </summary>
    /// <param name="data">The data view to read.</param>
    /// <param name="columns">The column bindings, shared by both sources.</param>
    /// <param name="options">Options; the validation source uses them with shuffling and dropping turned off.</param>
    /// <param name="validationFraction">Expected fraction of rows for validation, in (0, 1).</param>
    /// <returns>The training and the validation source.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is not in (0, 1).</exception>
    public static (DataViewBatchSource Train, DataViewBatchSource Validation) CreateTrainValidation(
        IDataView data,
        IReadOnlyList<BatchColumn> columns,
        BatchSourceOptions options,
        double validationFraction)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(validationFraction > 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be greater than 0 and less than 1.");
        }

        var train = new DataViewBatchSource(data, columns, options, new RowSelection(RowSubset.Training, validationFraction, options.Seed));
        var validation = new DataViewBatchSource(data, columns, options, new RowSelection(RowSubset.Validation, validationFraction, options.Seed));
        return (train, validation);
    }

    /// <summary>The data view the batches are read from.</summary>
    public IDataView Data { get; }

    /// <summary>The column bindings, in order.</summary>
    public IReadOnlyList<BatchColumn> Columns { get; }

    /// <summary>The options in effect (for a validation source: with shuffling and dropping turned off).</summary>
    public BatchSourceOptions Options { get; }

    /// <summary>Which rows this source reads: all, or one side of a validation split.</summary>
    public RowSubset Subset => Selection.Subset;

    /// <summary>The validation fraction of the split this source belongs to, or 0 for <see cref="RowSubset.All"/>.</summary>
    public double ValidationFraction => Selection.ValidationFraction;

    /// <summary>The shuffle buffer size in rows actually used (the automatic size resolved, capped by a known row count).</summary>
    public int ShuffleBufferSize { get; }

    /// <summary>The prefetch depth in batches actually used (the automatic depth resolved).</summary>
    public int PrefetchBatches { get; }

    /// <summary>
    /// Rows per epoch once known: from the data view when it reports a count and every row is kept,
    /// otherwise after the first complete epoch, <see cref="CountRows"/> or a statistics pass.
    /// </summary>
    public long? RowCount
    {
        get
        {
            long rows = Interlocked.Read(ref _rowCount);
            return rows < 0 ? null : rows;
        }
    }

    /// <summary>Batches per epoch once <see cref="RowCount"/> is known, honouring <see cref="BatchSourceOptions.DropLastPartialBatch"/>.</summary>
    public long? BatchesPerEpoch
    {
        get
        {
            if (RowCount is not { } rows)
            {
                return null;
            }

            long size = Options.BatchSize;
            return Options.DropLastPartialBatch ? rows / size : (rows + size - 1) / size;
        }
    }

    internal ColumnBinding[] Bindings { get; }

    internal RowSelection Selection { get; }

    internal bool ShuffleEnabled => Options.Shuffle && Subset != RowSubset.Validation;

    /// <summary>
    /// The shape of one row of a role's tensor, without the batch dimension: <c>[]</c> for a scalar
    /// column, <c>[F]</c> for a vector, or the declared <see cref="BatchColumn.Shape"/>.
    /// </summary>
    /// <param name="role">A role of one of <see cref="Columns"/>.</param>
    /// <exception cref="KeyNotFoundException">No column is bound to <paramref name="role"/>.</exception>
    public long[] GetRowShape(string role)
    {
        foreach (var binding in Bindings)
        {
            if (string.Equals(binding.Role, role, StringComparison.Ordinal))
            {
                return (long[])binding.RowShape.Clone();
            }
        }

        throw new KeyNotFoundException($"No column is bound to role '{role}'. Roles: {string.Join(", ", Bindings.Select(b => b.Role))}.");
    }

    /// <inheritdoc />
    /// <remarks>
    /// Nothing is read until the first <c>MoveNext</c>. Each enumeration starts a reader thread that
    /// stops when the epoch ends, when <paramref name="cancellationToken"/> is cancelled (then
    /// <c>MoveNext</c> throws <see cref="OperationCanceledException"/>) or when the enumerator is
    /// disposed, for example by leaving a <c>foreach</c> early. An exception of the reader (a data
    /// error, a failing data view) is rethrown by <c>MoveNext</c> with its original type and message,
    /// after the batches read before it. Dispose an enumerator obtained by hand (<c>foreach</c> and
    /// LINQ do it): until then its reader thread and cursor stay open, waiting for it.
    /// </remarks>
    public IEnumerable<TensorBatch> GetBatches(int epoch, CancellationToken cancellationToken = default) =>
        new EpochBatches(this, epoch, cancellationToken);

    /// <summary>
    /// The number of rows per epoch, counted with one pass if not yet known. With
    /// <see cref="MissingValuePolicy.Error"/> only row positions are read; with
    /// <see cref="MissingValuePolicy.SkipRow"/> the values are read to find the rows left out.
    /// </summary>
    /// <param name="cancellationToken">Cancels the pass.</param>
    /// <returns>The row count, also available afterwards as <see cref="RowCount"/>.</returns>
    public long CountRows(CancellationToken cancellationToken = default)
    {
        if (RowCount is { } known)
        {
            return known;
        }

        long rows = 0;
        if (Options.MissingValues == MissingValuePolicy.Error)
        {
            using var cursor = Data.GetRowCursor([]);
            while (cursor.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Selection.Accepts(cursor.Position))
                {
                    rows++;
                }
            }
        }
        else
        {
            var store = new RowStore(Bindings, 1);
            using var scanner = new RowScanner(Data, Bindings, Options.MissingValues, Selection);
            while (scanner.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (scanner.TryRead(store, 0))
                {
                    rows++;
                }
            }
        }

        ObserveRowCount(rows);
        return rows;
    }

    /// <summary>
    /// Stops and drops a next epoch that <see cref="BatchSourceOptions.PrepareNextEpoch"/> started
    /// reading ahead, closing its cursor and freeing its buffer. Call it after the last epoch when the
    /// source will not be read again soon; otherwise a prepared epoch stops by itself 10 seconds after
    /// it has read its buffer. Reading any epoch later still works.
    /// </summary>
    public void DiscardPreparedEpoch() => Interlocked.Exchange(ref _preparedEpoch, null)?.Dispose();

    internal void ObserveRowCount(long rows) => Interlocked.Exchange(ref _rowCount, rows);

    /// <summary>
    /// How long a prepared next epoch waits to be asked for before it stops reading and closes its
    /// cursor. Settable for tests.
    /// </summary>
    internal TimeSpan PreparedEpochLifetime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The last epoch the run will read, when the trainer knows it: no epoch after it is read ahead,
    /// so the final epoch does not spend a core reading one that nobody trains on. Null: no limit.
    /// <see cref="Training.TrainingEngine.Fit"/> sets it from the run's epoch count; loops of their own set it themselves.
    /// </summary>
    internal int? LastEpoch { get; set; }

    /// <summary>The prepared next epoch, if any (for tests).</summary>
    internal PrefetchingBatchEnumerator? PreparedEpoch => Volatile.Read(ref _preparedEpoch);

    /// <summary>The enumeration for <see cref="GetBatches"/>: the prepared one when it is for this epoch, otherwise a new one.</summary>
    internal IEnumerator<TensorBatch> OpenEpoch(int epoch, CancellationToken cancellationToken)
    {
        var prepared = Interlocked.Exchange(ref _preparedEpoch, null);
        if (prepared is not null)
        {
            if (prepared.Epoch == epoch && prepared.TryAdopt(cancellationToken))
            {
                return prepared;
            }

            prepared.Dispose();
        }

        return new PrefetchingBatchEnumerator(this, epoch, adopted: true, cancellationToken);
    }

    /// <summary>Starts reading <paramref name="epoch"/> ahead of time, unless disabled or another epoch is already prepared.</summary>
    internal void PrepareEpoch(int epoch)
    {
        // int.MinValue is epoch int.MaxValue + 1 wrapped around: there is no next epoch to prepare.
        if (!ShuffleEnabled || !Options.PrepareNextEpoch || epoch == int.MinValue || epoch > LastEpoch || Volatile.Read(ref _preparedEpoch) is not null)
        {
            return;
        }

        var prepared = new PrefetchingBatchEnumerator(this, epoch, adopted: false, CancellationToken.None);
        prepared.StartEarly();
        if (Interlocked.CompareExchange(ref _preparedEpoch, prepared, null) is not null)
        {
            prepared.Dispose();
        }
    }

    /// <summary>The reader's slot storage, kept between epochs so that it is not reallocated each time.</summary>
    internal RowStore RentSlotStore() => Interlocked.Exchange(ref _slotStore, null) ?? new RowStore(Bindings, 0);

    internal void ReturnSlotStore(RowStore store) => Interlocked.Exchange(ref _slotStore, store);
}
