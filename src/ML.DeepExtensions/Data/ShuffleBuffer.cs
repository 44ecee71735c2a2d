namespace ML.DeepExtensions.Data;

/// <summary>
/// A seeded streaming shuffle over a forward-only cursor. The buffer fills with the first rows; then
/// each new row replaces a uniformly chosen buffered row, which is emitted. At the end the remaining
/// rows are emitted in random order. With no more rows than the buffer this is a uniform random
/// permutation (a Fisher-Yates draw); with more, rows mix within about a buffer's length. Memory is
/// bounded by the buffer, whatever the size of the data.
/// </summary>
/// <remarks>
/// Rows never move: the store has one spare row, <see cref="FreeRow"/>, that the next row is read
/// into, and a slot table records which store rows are occupied. Emitting a row frees its store row,
/// so each row costs one copy (into the batch) and no allocation.
/// </remarks>
internal sealed class ShuffleBuffer
{
    private readonly int _capacity;
    private readonly int[] _occupied;
    private SplitMix64 _random;
    private int _count;
    private int _nextUnused;

    /// <param name="store">Row storage, grown on demand up to <paramref name="capacity"/> + 1 rows.</param>
    /// <param name="capacity">Rows held before emitting starts.</param>
    /// <param name="random">The epoch's generator.</param>
    public ShuffleBuffer(RowStore store, int capacity, SplitMix64 random)
    {
        Store = store;
        _capacity = capacity;
        _occupied = new int[capacity];
        _random = random;
        FreeRow = 0;
        _nextUnused = 1;
        Store.EnsureCapacity(Math.Min(capacity + 1, 1024), capacity + 1);
    }

    public RowStore Store { get; }

    /// <summary>The store row the next row must be read into.</summary>
    public int FreeRow { get; private set; }

    /// <summary>
    /// Accepts the row just read into <see cref="FreeRow"/>. Returns true with the store row to emit
    /// when the buffer was full; that row must be copied out before the next row is read.
    /// </summary>
    public bool Add(out int emitRow)
    {
        if (_count < _capacity)
        {
            _occupied[_count++] = FreeRow;
            FreeRow = _nextUnused++;
            Store.EnsureCapacity(FreeRow + 1, _capacity + 1);
            emitRow = -1;
            return false;
        }

        int slot = _random.NextInt32(_capacity);
        emitRow = _occupied[slot];
        _occupied[slot] = FreeRow;
        FreeRow = emitRow;
        return true;
    }

    /// <summary>After the last row: emits the buffered rows one at a time in random order.</summary>
    public bool TryDrain(out int emitRow)
    {
        if (_count == 0)
        {
            emitRow = -1;
            return false;
        }

        int slot = _random.NextInt32(_count);
        emitRow = _occupied[slot];
        _occupied[slot] = _occupied[--_count];
        return true;
    }
}
