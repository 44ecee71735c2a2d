namespace ML.DeepExtensions.Data;

/// <summary>
/// A seeded streaming shuffle over a forward-only cursor, on row slots (indices into a
/// <see cref="RowStore"/>), so rows are never moved. The buffer fills with the first rows; then each
/// new row takes the place of a uniformly chosen buffered row, which is emitted. At the end the
/// remaining rows are emitted in random order. With no more rows than the buffer this is a uniform
/// random permutation (a Fisher-Yates draw); with more, rows mix within about a buffer's length.
/// Memory is bounded by the buffer, whatever the size of the data.
/// </summary>
internal sealed class ShuffleBuffer
{
    private readonly int[] _occupied;
    private SplitMix64 _random;
    private int _count;

    /// <param name="capacity">Rows held before emitting starts.</param>
    /// <param name="random">The epoch's generator.</param>
    public ShuffleBuffer(int capacity, SplitMix64 random)
    {
        _occupied = new int[capacity];
        _random = random;
    }

    /// <summary>Adds a row's slot; returns the slot to emit once the buffer is full, otherwise -1.</summary>
    public int Add(int slot)
    {
        if (_count < _occupied.Length)
        {
            _occupied[_count++] = slot;
            return -1;
        }

        int index = _random.NextInt32(_occupied.Length);
        int emitted = _occupied[index];
        _occupied[index] = slot;
        return emitted;
    }

    /// <summary>After the last row: emits the buffered slots one at a time in random order.</summary>
    public bool TryDrain(out int slot)
    {
        if (_count == 0)
        {
            slot = -1;
            return false;
        }

        int index = _random.NextInt32(_count);
        slot = _occupied[index];
        _occupied[index] = _occupied[--_count];
        return true;
    }
}
