using System.Globalization;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// The set of valid actions or observations of an environment, as Gymnasium's <c>spaces</c>:
/// <see cref="DiscreteSpace"/> for a choice among <c>n</c> actions, <see cref="BoxSpace"/> for a
/// vector of bounded floats.
/// </summary>
/// <typeparam name="T">The value type: <see cref="int"/> for discrete, <see cref="float"/>[] for box.</typeparam>
public abstract class Space<T>
{
    /// <summary>Whether <paramref name="value"/> belongs to the space.</summary>
    public abstract bool Contains(T value);

    /// <summary>A random member of the space drawn from <paramref name="random"/>.</summary>
    public abstract T Sample(Pcg64 random);

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the space and <paramref name="what"/> when <paramref name="value"/> is not a member.</summary>
    public abstract void EnsureContains(T value, string what);
}

/// <summary>
/// The integers <c>Start, …, Start + Count − 1</c> (Gymnasium's <c>Discrete(n, start)</c>).
/// </summary>
public sealed class DiscreteSpace : Space<int>
{
    /// <summary>Creates the space of <paramref name="count"/> integers from <paramref name="start"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    public DiscreteSpace(int count, int start = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Count = count;
        Start = start;
    }

    /// <summary>The number of values.</summary>
    public int Count { get; }

    /// <summary>The smallest value.</summary>
    public int Start { get; }

    /// <inheritdoc />
    public override bool Contains(int value) => value >= Start && value - Start < Count;

    /// <inheritdoc />
    public override int Sample(Pcg64 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return Start + (int)random.NextInt64(Count);
    }

    /// <inheritdoc />
    public override void EnsureContains(int value, string what)
    {
        if (!Contains(value))
        {
            throw new ArgumentOutOfRangeException(what, value, $"{what} {value} is outside the space {this}: expected an integer from {Start} to {Start + Count - 1}.");
        }
    }

    /// <summary>Gymnasium's notation, e.g. <c>Discrete(2)</c>.</summary>
    public override string ToString() => Start == 0
        ? $"Discrete({Count})"
        : string.Create(CultureInfo.InvariantCulture, $"Discrete({Count}, start={Start})");
}

/// <summary>
/// A vector of <see cref="Size"/> floats, each within <c>[Low[i], High[i]]</c> (Gymnasium's
/// <c>Box(low, high, shape=(n,), dtype=float32)</c>); bounds may be infinite. Observations of every
/// environment here are box vectors, flattened if need be.
/// </summary>
public sealed class BoxSpace : Space<float[]>
{
    private readonly float[] _low;
    private readonly float[] _high;

    /// <summary>Creates a box with per-element bounds.</summary>
    /// <exception cref="ArgumentException">The bounds differ in length, are empty, contain NaN, or a low bound exceeds its high bound.</exception>
    public BoxSpace(float[] low, float[] high)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Length != high.Length || low.Length == 0)
        {
            throw new ArgumentException($"A box needs low and high bounds of the same non-zero length; got {low.Length} and {high.Length}.", nameof(high));
        }
        for (int i = 0; i < low.Length; i++)
        {
            if (float.IsNaN(low[i]) || float.IsNaN(high[i]) || low[i] > high[i])
            {
                throw new ArgumentException($"Box bound {i} is invalid: low {low[i]}, high {high[i]}.", nameof(low));
            }
        }
        _low = (float[])low.Clone();
        _high = (float[])high.Clone();
    }

    /// <summary>Creates a box of <paramref name="size"/> elements sharing one pair of bounds.</summary>
    public BoxSpace(float low, float high, int size)
        : this(Enumerable.Repeat(low, CheckSize(size)).ToArray(), Enumerable.Repeat(high, size).ToArray())
    {
    }

    /// <summary>The number of elements.</summary>
    public int Size => _low.Length;

    /// <summary>The lower bounds.</summary>
    public IReadOnlyList<float> Low => _low;

    /// <summary>The upper bounds.</summary>
    public IReadOnlyList<float> High => _high;

    /// <inheritdoc />
    public override bool Contains(float[] value)
    {
        if (value is null || value.Length != _low.Length)
        {
            return false;
        }
        for (int i = 0; i < value.Length; i++)
        {
            // NaN fails both comparisons, as in NumPy.
            if (!(value[i] >= _low[i] && value[i] <= _high[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A random member, as Gymnasium samples a box: uniform where both bounds are finite, normal where
    /// neither is, and shifted exponential where only one is. Float32 values.
    /// </summary>
    public override float[] Sample(Pcg64 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var sample = new float[_low.Length];
        for (int i = 0; i < sample.Length; i++)
        {
            bool lowFinite = float.IsFinite(_low[i]), highFinite = float.IsFinite(_high[i]);
            double value = (lowFinite, highFinite) switch
            {
                (true, true) => random.Uniform(_low[i], _high[i]),
                (false, false) => random.NextNormal(),
                (true, false) => _low[i] - Math.Log(1.0 - random.NextDouble()),
                (false, true) => _high[i] + Math.Log(1.0 - random.NextDouble()),
            };
            // Rounding to float32 can step just past a bound.
            sample[i] = Math.Clamp((float)value, _low[i], _high[i]);
        }
        return sample;
    }

    /// <inheritdoc />
    public override void EnsureContains(float[] value, string what)
    {
        if (value is null)
        {
            throw new ArgumentNullException(what, $"{what} is null; expected a vector in {this}.");
        }
        if (value.Length != _low.Length)
        {
            throw new ArgumentException($"{what} has {value.Length} elements; the space {this} has {_low.Length}.", what);
        }
        for (int i = 0; i < value.Length; i++)
        {
            if (!(value[i] >= _low[i] && value[i] <= _high[i]))
            {
                throw new ArgumentOutOfRangeException(what, value[i],
                    string.Create(CultureInfo.InvariantCulture, $"{what}[{i}] = {value[i]} is outside the space {this}: element {i} must lie in [{_low[i]}, {_high[i]}]."));
            }
        }
    }

    /// <summary>Gymnasium's notation, e.g. <c>Box(-2, 2, (1,), float32)</c>; differing per-element bounds are listed, infinities as <c>inf</c>.</summary>
    public override string ToString()
    {
        static string One(float v) => float.IsInfinity(v) ? (v > 0 ? "inf" : "-inf") : v.ToString(CultureInfo.InvariantCulture);
        static string Format(float[] values) => values.Distinct().Count() == 1
            ? One(values[0])
            : "[" + string.Join(", ", values.Select(One)) + "]";
        return $"Box({Format(_low)}, {Format(_high)}, ({_low.Length},), float32)";
    }

    private static int CheckSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        return size;
    }
}
