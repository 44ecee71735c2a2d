using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Build;

[TestClass]
public sealed class TorchSharpLoadTests
{
    [TestMethod]
    public void NativeBackendLoadsAndComputes()
    {
        using var scope = NewDisposeScope();
        var sum = (ones(3, 3) * 2).sum().item<float>();
        Assert.AreEqual(18f, sum);
    }
}
