using System.Runtime.InteropServices;
using CsCheck;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Runs a CsCheck generator's cases deterministically: the cases come from a fixed PCG stream and
/// seed, so every run tests the same inputs and a failure names the case index to reproduce it.
/// (CsCheck's Sample draws every case after the first from a random stream; these tests must be
/// reproducible.)
/// </summary>
internal static class PropertyCases
{
    /// <summary>Generates <paramref name="count"/> cases from (<paramref name="seed"/>) and checks each.</summary>
    public static void Check<T>(Gen<T> gen, int count, ulong seed, Action<T> check, Func<T, string>? describe = null)
    {
        var pcg = new PCG(stream: 1, seed: seed);
        for (int i = 0; i < count; i++)
        {
            var value = gen.Generate(pcg, null, out _);
            try
            {
                check(value);
            }
            catch (Exception error) when (error is not AssertFailedException)
            {
                throw new AssertFailedException($"Case {i} of seed {seed} ({(describe ?? (v => v?.ToString() ?? "null"))(value)}) failed with an unexpected {error.GetType().Name}: {error}", error);
            }
            catch (AssertFailedException error)
            {
                throw new AssertFailedException($"Case {i} of seed {seed} ({(describe ?? (v => v?.ToString() ?? "null"))(value)}): {error.Message}", error);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/>; returns null when it succeeds, or the exception when it is a
    /// clear managed one: an ArgumentException, InvalidOperationException, InvalidDataException,
    /// IOException or the library's DataValidationException, with a message, and no exception in its
    /// inner chain that betrays a bug (null reference, index, overflow, cast, a libtorch or native error).
    /// Anything else fails the test.
    /// </summary>
    /// <param name="action">The code under test.</param>
    /// <param name="anyManagedType">Accept any exception type that does not betray a bug (for ML.NET's own loader, whose types this library does not choose).</param>
    public static Exception? ExpectCleanFailureOrSuccess(Action action, bool anyManagedType = false)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception error) when (error is not AssertFailedException)
        {
            Assert.IsTrue(anyManagedType ? !IsBug(error) : IsClear(error), $"not a clear managed exception: {error}");
            for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
            {
                Assert.IsFalse(IsBug(inner), $"a clear exception wraps a bug: {error}");
            }

            Assert.IsFalse(string.IsNullOrWhiteSpace(error.Message));
            return error;
        }
    }

    private static bool IsClear(Exception error) =>
        !IsBug(error) && error is ArgumentException or InvalidOperationException or InvalidDataException or IOException or ML.DeepExtensions.Data.DataValidationException;

    private static bool IsBug(Exception error) =>
        error is NullReferenceException or IndexOutOfRangeException or OverflowException or InvalidCastException or KeyNotFoundException
            or DivideByZeroException or AccessViolationException or ExternalException or NotImplementedException or ObjectDisposedException
            // ArgumentOutOfRangeException from inside the framework (e.g. a span slice) rather than from an option check.
            || (error is ArgumentOutOfRangeException && error.StackTrace?.Contains("System.ThrowHelper", StringComparison.Ordinal) == true)
            // ML.NET wraps a cursor's failure in "Splitter/consolidator worker encountered exception": look inside.
            || (error.InnerException is { } inner && IsBug(inner));
}
