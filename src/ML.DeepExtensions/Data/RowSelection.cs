namespace ML.DeepExtensions.Data;

/// <summary>
/// SplitMix64: a small, fast generator with a fixed, documented algorithm, so a seed gives the same
/// sequence on every .NET version (System.Random makes no such promise across versions).
/// </summary>
internal struct SplitMix64
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += Golden;
        return Mix(_state);
    }

    /// <summary>Uniform integer in [0, <paramref name="exclusiveMax"/>) without modulo bias (Lemire's method).</summary>
    public int NextInt32(int exclusiveMax)
    {
        uint bound = (uint)exclusiveMax;
        ulong product = (ulong)(uint)(NextUInt64() >> 32) * bound;
        uint low = (uint)product;
        if (low < bound)
        {
            uint threshold = (0u - bound) % bound;
            while (low < threshold)
            {
                product = (ulong)(uint)(NextUInt64() >> 32) * bound;
                low = (uint)product;
            }
        }

        return (int)(product >> 32);
    }

    /// <summary>The shuffle generator of one epoch: the same (seed, epoch) always gives the same order.</summary>
    public static SplitMix64 ForEpoch(int seed, int epoch) =>
        new(Mix(Mix((ulong)(uint)seed ^ 0x53485546464C4531UL) + Golden * (ulong)(uint)epoch));
}

/// <summary>
/// Decides which rows a source reads. The validation split hashes (seed, row position) and compares
/// the result with the fraction, so each row's side is fixed without storing anything and without a
/// first pass, whatever order or subset of rows is read.
/// </summary>
internal readonly struct RowSelection
{
    private readonly ulong _seedHash;
    private readonly ulong _threshold;

    public RowSelection(RowSubset subset, double validationFraction, int seed)
    {
        Subset = subset;
        ValidationFraction = subset == RowSubset.All ? 0 : validationFraction;
        _seedHash = SplitMix64.Mix((ulong)(uint)seed ^ 0x56414C4944415445UL);
        // Compare 53-bit hash prefixes with fraction * 2^53, exact for every double fraction.
        _threshold = (ulong)(ValidationFraction * (1UL << 53));
    }

    public static RowSelection All => new(RowSubset.All, 0, 0);

    public RowSubset Subset { get; }

    public double ValidationFraction { get; }

    public bool IsValidationRow(long position) =>
        SplitMix64.Mix(_seedHash + (ulong)position * 0x9E3779B97F4A7C15UL) >> 11 < _threshold;

    public bool Accepts(long position) => Subset switch
    {
        RowSubset.All => true,
        RowSubset.Validation => IsValidationRow(position),
        _ => !IsValidationRow(position),
    };
}
