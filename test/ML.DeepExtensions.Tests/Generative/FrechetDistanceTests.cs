using ML.DeepExtensions.Generative;

namespace ML.DeepExtensions.Tests.Generative;

[TestClass]
public sealed class FrechetDistanceTests
{
    [TestMethod]
    public void IndependentGaussiansGiveTheClosedFormDistance()
    {
        // Diagonal covariances: FD = |Δμ|² + Σ (σ₁ − σ₂)². Means 0 vs (1, 2), σ = (1, 1) vs (2, 0.5): 5 + 1 + 0.25.
        var random = new Random(3);
        var first = Gaussian(random, 40_000, [0, 0], [1, 1]);
        var second = Gaussian(random, 40_000, [1, 2], [2, 0.5]);
        double distance = FrechetDistance.Compute(first, second);
        Assert.AreEqual(6.25, distance, 0.1);
    }

    [TestMethod]
    public void TwoSamplesOfOneDistributionAreCloseAndASetIsAtZeroFromItself()
    {
        var random = new Random(4);
        var first = Gaussian(random, 5_000, [1, -1, 0.5], [1, 2, 0.3]);
        var second = Gaussian(random, 5_000, [1, -1, 0.5], [1, 2, 0.3]);
        Assert.IsLessThan(0.05, FrechetDistance.Compute(first, second));
        Assert.AreEqual(0, FrechetDistance.Compute(first, first), 1e-6);
    }

    [TestMethod]
    public void TooFewRowsOrUnequalLengthsAreRefused()
    {
        Assert.ThrowsExactly<ArgumentException>(() => FrechetDistance.Compute([[1f, 2f]], [[1f, 2f], [2f, 3f]]));
        var error = Assert.ThrowsExactly<ArgumentException>(() => FrechetDistance.Compute([[1f, 2f], [1f, 3f]], [[1f], [2f]]));
        StringAssert.Contains(error.Message, "same length");
    }

    private static float[][] Gaussian(Random random, int count, double[] mean, double[] deviation) =>
        Enumerable.Range(0, count).Select(_ => mean.Select((m, j) => (float)(m + (deviation[j] * Normal(random)))).ToArray()).ToArray();

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
