using ML.DeepExtensions.Networks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks.Vision;

[TestClass]
public sealed class GlobalAveragePoolingTests
{
    [TestMethod]
    public void ReducesImagesToChannelMeans()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var pooling = new GlobalAveragePooling();
        var input = randn(3, 5, 4, 6);

        var output = pooling.forward(input);

        CollectionAssert.AreEqual(new long[] { 3, 5 }, output.shape);
        Assert.IsTrue(output.allclose(input.mean([2L, 3L])));
        Assert.AreEqual(input[1, 2].mean().item<float>(), output[1, 2].item<float>(), 1e-6f);
    }

    [TestMethod]
    public void HasNoParametersOrBuffers()
    {
        using var scope = NewDisposeScope();
        using var pooling = new GlobalAveragePooling();

        Assert.AreEqual(0, pooling.state_dict().Count);
    }

    [TestMethod]
    public void RejectsInputThatIsNotRankFour()
    {
        using var scope = NewDisposeScope();
        using var pooling = new GlobalAveragePooling();

        var error = Assert.ThrowsExactly<ArgumentException>(() => pooling.forward(randn(5, 4, 6)));

        StringAssert.Contains(error.Message, "[5, 4, 6]");
    }
}
