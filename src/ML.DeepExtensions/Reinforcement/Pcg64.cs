using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// A PCG64 (XSL-RR 128/64) random generator seeded exactly as NumPy's <c>np.random.default_rng(seed)</c>
/// (a <c>SeedSequence</c> of the seed), which is what Gymnasium's <c>reset(seed=...)</c> uses. Its
/// <see cref="NextDouble"/> and <see cref="Uniform"/> therefore give the same numbers as NumPy's
/// <c>Generator.random</c> and <c>Generator.uniform</c> for the same seed, so a built-in environment
/// reset with a seed starts where Gymnasium's does. Unlike <see cref="System.Random"/>, its whole state
/// can be saved and restored (<see cref="ICheckpointState"/>).
/// </summary>
public sealed class Pcg64 : ICheckpointState
{
    private static readonly UInt128 _multiplier = new(0x2360ED051FC65DA4UL, 0x4385DF649FCCF645UL);

    private UInt128 _state;
    private UInt128 _increment;

    /// <summary>Creates a generator from a non-negative seed, as <c>np.random.default_rng(seed)</c>.</summary>
    public Pcg64(ulong seed)
    {
        Span<ulong> words = stackalloc ulong[4];
        SeedSequence.GenerateState(seed, words);
        SetState(new UInt128(words[0], words[1]), new UInt128(words[2], words[3]));
    }

    /// <summary>Creates a generator seeded from the operating system's entropy (like <c>reset(seed=None)</c> on a fresh Gymnasium environment).</summary>
    public static Pcg64 FromEntropy() => new((ulong)Random.Shared.NextInt64(long.MaxValue));

    string ICheckpointState.StateKey => "rng";

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state = (_state * _multiplier) + _increment;
        ulong high = (ulong)(_state >> 64);
        ulong low = (ulong)_state;
        int rotation = (int)(_state >> 122);
        return ulong.RotateRight(high ^ low, rotation);
    }

    /// <summary>A double uniform in [0, 1) with 53 random bits (NumPy's <c>random()</c>).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>A double uniform in [low, high), computed as NumPy does: <c>low + (high - low) * NextDouble()</c>.</summary>
    public double Uniform(double low, double high) => low + ((high - low) * NextDouble());

    /// <summary>An integer uniform in [0, count) without modulo bias.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    public long NextInt64(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ulong n = (ulong)count;
        // Lemire's multiply-and-reject: unbiased, usually one draw.
        ulong threshold = (0UL - n) % n;
        while (true)
        {
            UInt128 product = (UInt128)NextUInt64() * n;
            if ((ulong)product >= threshold)
            {
                return (long)(ulong)(product >> 64);
            }
        }
    }

    /// <summary>A standard normal sample (polar Box-Muller; not NumPy's ziggurat sequence).</summary>
    public double NextNormal()
    {
        while (true)
        {
            double u = (2.0 * NextDouble()) - 1.0;
            double v = (2.0 * NextDouble()) - 1.0;
            double s = (u * u) + (v * v);
            if (s > 0.0 && s < 1.0)
            {
                return u * Math.Sqrt(-2.0 * Math.Log(s) / s);
            }
        }
    }

    /// <summary>Writes the 128-bit state and increment.</summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write((ulong)(_state >> 64));
        writer.Write((ulong)_state);
        writer.Write((ulong)(_increment >> 64));
        writer.Write((ulong)_increment);
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote.</summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ulong sh = reader.ReadUInt64(), sl = reader.ReadUInt64(), ih = reader.ReadUInt64(), il = reader.ReadUInt64();
        _state = new UInt128(sh, sl);
        _increment = new UInt128(ih, il);
        if ((_increment & UInt128.One) == UInt128.Zero)
        {
            throw new InvalidDataException("The saved PCG64 state is invalid: its increment must be odd.");
        }
    }

    /// <summary>Copies the generator (same state; the two then advance independently).</summary>
    public Pcg64 Clone()
    {
        return (Pcg64)MemberwiseClone();
    }

    private void SetState(UInt128 seed, UInt128 sequence)
    {
        // pcg_setseq_128_srandom_r: start from zero, fold in the seed between two steps.
        _state = UInt128.Zero;
        _increment = (sequence << 1) | UInt128.One;
        _state = (_state * _multiplier) + _increment;
        _state += seed;
        _state = (_state * _multiplier) + _increment;
    }

    /// <summary>NumPy's SeedSequence (a hash of the entropy into a pool of four 32-bit words), for a single integer seed and no spawn key.</summary>
    private static class SeedSequence
    {
        private const uint InitA = 0x43b0d7e5, MultA = 0x931e8875, InitB = 0x8b51f9dd, MultB = 0x58f38ded;
        private const uint MixMultL = 0xca01f9dd, MixMultR = 0x4973f715;
        private const int XShift = 16, PoolSize = 4;

        public static void GenerateState(ulong seed, Span<ulong> output)
        {
            // The seed as little-endian 32-bit words; zero is one word.
            Span<uint> entropy = stackalloc uint[2];
            int length = 0;
            ulong rest = seed;
            do
            {
                entropy[length++] = (uint)rest;
                rest >>= 32;
            }
            while (rest != 0);

            Span<uint> pool = stackalloc uint[PoolSize];
            uint hashConst = InitA;
            for (int i = 0; i < PoolSize; i++)
            {
                pool[i] = HashMix(i < length ? entropy[i] : 0u, ref hashConst);
            }
            for (int src = 0; src < PoolSize; src++)
            {
                for (int dst = 0; dst < PoolSize; dst++)
                {
                    if (src != dst)
                    {
                        pool[dst] = Mix(pool[dst], HashMix(pool[src], ref hashConst));
                    }
                }
            }
            // Words beyond the pool size (never for a 64-bit seed) would be mixed in here.

            uint outConst = InitB;
            for (int i = 0; i < output.Length * 2; i++)
            {
                uint value = pool[i % PoolSize];
                value ^= outConst;
                outConst *= MultB;
                value *= outConst;
                value ^= value >> XShift;
                // uint32 words viewed as little-endian uint64.
                if (i % 2 == 0)
                {
                    output[i / 2] = value;
                }
                else
                {
                    output[i / 2] |= (ulong)value << 32;
                }
            }
        }

        private static uint HashMix(uint value, ref uint hashConst)
        {
            value ^= hashConst;
            hashConst *= MultA;
            value *= hashConst;
            value ^= value >> XShift;
            return value;
        }

        private static uint Mix(uint x, uint y)
        {
            uint result = (MixMultL * x) - (MixMultR * y);
            result ^= result >> XShift;
            return result;
        }
    }
}
