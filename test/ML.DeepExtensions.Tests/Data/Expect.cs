namespace ML.DeepExtensions.Tests.Data;

/// <summary>Sequence assertions with inline expected values (no constant arrays at each call site).</summary>
internal static class Expect
{
    public static void Values<T>(IEnumerable<T> actual, params ReadOnlySpan<T> expected) =>
        CollectionAssert.AreEqual(expected.ToArray(), actual.ToArray());
}
