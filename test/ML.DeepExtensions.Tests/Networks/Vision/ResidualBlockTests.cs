using ML.DeepExtensions.Networks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks.Vision;

[TestClass]
public sealed class ResidualBlockTests
{
    [TestMethod]
    public void SameChannelsStrideOneKeepsShapeWithIdentityShortcut()
    {
        using var scope = NewDisposeScope();
        using var block = new ResidualBlock(4, 4);

        var output = block.forward(randn(2, 4, 7, 5));

        CollectionAssert.AreEqual(new long[] { 2, 4, 7, 5 }, output.shape);
        Assert.IsFalse(block.HasProjectionShortcut);
        Assert.AreEqual((4, 4, 1), (block.InChannels, block.OutChannels, block.Stride));
    }

    [TestMethod]
    public void StrideTwoHalvesSpatialSizeRoundingUpAndProjects()
    {
        using var scope = NewDisposeScope();
        using var block = new ResidualBlock(3, 8, stride: 2);

        var output = block.forward(randn(2, 3, 7, 8));

        CollectionAssert.AreEqual(new long[] { 2, 8, 4, 4 }, output.shape);
        Assert.IsTrue(block.HasProjectionShortcut);
    }

    [TestMethod]
    public void ChannelChangeAloneProjectsShortcut()
    {
        using var scope = NewDisposeScope();
        using var block = new ResidualBlock(3, 6);

        var output = block.forward(randn(1, 3, 5, 5));

        CollectionAssert.AreEqual(new long[] { 1, 6, 5, 5 }, output.shape);
        Assert.IsTrue(block.HasProjectionShortcut);
    }

    [TestMethod]
    public void OutputIsNonNegative()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var block = new ResidualBlock(4, 4);

        var output = block.forward(randn(2, 4, 6, 6) * 3);

        Assert.IsTrue(output.min().item<float>() >= 0f);
    }

    [TestMethod]
    public void StateDictionaryUsesPyTorchNames()
    {
        using var scope = NewDisposeScope();
        using var block = new ResidualBlock(3, 8, stride: 2);

        var names = block.state_dict().Keys.ToList();

        CollectionAssert.IsSubsetOf(
            new[]
            {
                "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                "conv2.weight", "bn2.running_var", "shortcut.conv.weight", "shortcut.bn.running_mean",
            },
            names,
            string.Join(", ", names));
        Assert.IsFalse(names.Any(name => name.Contains("bias", StringComparison.Ordinal) && name.Contains("conv", StringComparison.Ordinal)), "convolutions have no bias");
    }

    [TestMethod]
    public void IdentityShortcutBlockHasNoShortcutParameters()
    {
        using var scope = NewDisposeScope();
        using var block = new ResidualBlock(4, 4);

        Assert.IsFalse(block.state_dict().Keys.Any(name => name.StartsWith("shortcut", StringComparison.Ordinal)));
        // Two 3x3 convs (4·4·9 each) and two affine batch norms (2·4 each).
        Assert.AreEqual((2 * 4 * 4 * 9) + (2 * 2 * 4), block.parameters().Sum(p => p.numel()));
    }

    [TestMethod]
    public void GradientsReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        using var block = new ResidualBlock(3, 4, stride: 2);

        block.forward(randn(2, 3, 6, 6)).sum().backward();

        foreach (var (name, parameter) in block.named_parameters())
        {
            Assert.IsNotNull(parameter.grad, name);
            Assert.IsTrue(parameter.grad.abs().sum().item<float>() > 0f, name);
        }
    }

    [TestMethod]
    [DataRow(0, 4, 1)]
    [DataRow(4, 0, 1)]
    [DataRow(4, 4, 0)]
    public void InvalidArgumentsThrow(int inChannels, int outChannels, int stride) =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ResidualBlock(inChannels, outChannels, stride));
}
