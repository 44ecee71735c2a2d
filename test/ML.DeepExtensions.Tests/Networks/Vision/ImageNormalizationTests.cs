using ML.DeepExtensions.Networks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks.Vision;

[TestClass]
public sealed class ImageNormalizationTests
{
    [TestMethod]
    public void NormalizesEachChannelWithItsOwnStatistics()
    {
        using var scope = NewDisposeScope();
        using var normalize = new ImageNormalization(0.5f, [1f, 2f, 3f], [2f, 4f, 0.5f]);
        var input = full([2, 3, 2, 2], 10f);

        var output = normalize.forward(input);

        CollectionAssert.AreEqual(new long[] { 2, 3, 2, 2 }, output.shape);
        Assert.AreEqual((5f - 1f) / 2f, output[1, 0, 1, 1].item<float>(), 1e-6f);
        Assert.AreEqual((5f - 2f) / 4f, output[0, 1, 0, 1].item<float>(), 1e-6f);
        Assert.AreEqual((5f - 3f) / 0.5f, output[1, 2, 1, 0].item<float>(), 1e-6f);
    }

    [TestMethod]
    public void AcceptsASingleUnbatchedImage()
    {
        using var scope = NewDisposeScope();
        using var normalize = new ImageNormalization(1f / 255, [0.5f], [0.25f]);

        var output = normalize.forward(full([1, 3, 3], 255f));

        CollectionAssert.AreEqual(new long[] { 1, 3, 3 }, output.shape);
        Assert.AreEqual(2f, output[0, 2, 2].item<float>(), 1e-5f);
    }

    [TestMethod]
    public void ConstantsAreBuffersInTheStateDictionary()
    {
        using var scope = NewDisposeScope();
        using var normalize = new ImageNormalization(1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

        var state = normalize.state_dict();

        CollectionAssert.AreEquivalent(new[] { "scale", "mean", "std" }, state.Keys.ToArray());
        CollectionAssert.AreEqual(new long[] { 3, 1, 1 }, state["mean"].shape);
        Assert.AreEqual(3, normalize.ChannelCount);
        Assert.AreEqual(0, normalize.parameters().Count(), "nothing to train");
    }

    [TestMethod]
    public void ConvertingTheModuleConvertsItsConstants()
    {
        using var scope = NewDisposeScope();
        using var normalize = new ImageNormalization(2f, [1f, 2f], [2f, 4f]);

        normalize.to(float64);
        var output = normalize.forward(ones([1, 2, 1, 1], float64));

        Assert.AreEqual(ScalarType.Float64, normalize.Mean.dtype);
        Assert.AreEqual(ScalarType.Float64, output.dtype);
        Assert.AreEqual(0.0, output[0, 1, 0, 0].item<double>(), 1e-12);
    }

    [TestMethod]
    public void RejectsInputWithADifferentChannelCount()
    {
        using var scope = NewDisposeScope();
        using var normalize = new ImageNormalization(1f, [0.5f], [0.25f]);

        var error = Assert.ThrowsExactly<ArgumentException>(() => normalize.forward(ones(2, 3, 4, 4)));

        StringAssert.Contains(error.Message, "[2, 3, 4, 4]");
    }

    [TestMethod]
    public void RejectsMismatchedEmptyOrInvalidStatistics()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new ImageNormalization(1f, [0f, 0f], [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageNormalization(1f, [], []));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageNormalization(1f, [0f], [0f]));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageNormalization(1f, [0f], [-1f]));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageNormalization(1f, [float.NaN], [1f]));
        Assert.ThrowsExactly<ArgumentException>(() => new ImageNormalization(float.PositiveInfinity, [0f], [1f]));
    }
}
