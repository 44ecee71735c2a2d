using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks.Generative;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>The generative layers against ONNX Runtime, built through the layer system where they have a layer.</summary>
[TestClass]
public sealed class GenerativeLayerParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ConvTransposeDoublingTheSizeMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(301);
        using var layer = Build(Layer.ConvTranspose2D(5, kernelSize: 4, stride: 2, padding: 1), [3, 7, 6]);
        VisionParity.AssertMatchesTorch(layer, randn(2, 3, 7, 6), TestContext);
        Assert.AreEqual("ConvTranspose,Identity", string.Join(",", ModuleParity.OpTypes(VisionParity.Export(layer, [3, 7, 6]))));
    }

    [TestMethod]
    public void ConvTransposeWithOutputPaddingMatchesTorch()
    {
        // Kernel 3, stride 2, padding 1 gives 2·in − 1; output padding 1 makes it 2·in. ONNX's
        // output_shape rule would pad differently; explicit pads + output_padding reproduce torch.
        using var scope = NewDisposeScope();
        manual_seed(302);
        var description = Layer.ConvTranspose2D(4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        CollectionAssert.AreEqual(new long[] { 4, 10, 8 }, description.OutputShape([2, 5, 4]));
        using var layer = Build(description, [2, 5, 4]);
        VisionParity.AssertMatchesTorch(layer, randn(3, 2, 5, 4), TestContext);
    }

    [TestMethod]
    public void ConvTransposeFromOneByOneMatchesTorch()
    {
        // DCGAN's first layer: noise [Z, 1, 1] → [C, 4, 4] with kernel 4, stride 1, padding 0.
        using var scope = NewDisposeScope();
        manual_seed(303);
        using var layer = Build(Layer.ConvTranspose2D(6, kernelSize: 4, stride: 1, padding: 0), [8, 1, 1]);
        VisionParity.AssertMatchesTorch(layer, randn(4, 8, 1, 1), TestContext);
    }

    [TestMethod]
    public void NearestUpsamplingMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(304);
        using var layer = Build(Layer.Upsample(2), [3, 4, 5]);
        VisionParity.AssertMatchesTorch(layer, randn(2, 3, 4, 5), TestContext);
    }

    [TestMethod]
    public void BilinearUpsamplingMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(305);
        using var layer = Build(Layer.Upsample(3, bilinear: true), [2, 4, 3]);
        VisionParity.AssertMatchesTorch(layer, randn(2, 2, 4, 3), TestContext);
    }

    [TestMethod]
    public void ReshapeFromFlatToImageMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(306);
        using var layer = Build(Layer.Reshape(2, 3, 4), [24]);
        VisionParity.AssertMatchesTorch(layer, randn(3, 24), TestContext);
    }

    [TestMethod]
    public void ReshapeOfTheWrongSizeIsRefusedBeforeBuilding()
    {
        var error = Assert.ThrowsExactly<LayerShapeException>(() => NetworkBuilder.InferShapes([Layer.Dense(10), Layer.Reshape(1, 3, 3)], [4], requireFlatEnd: false));
        StringAssert.Contains(error.Message, "Layer 1");
        StringAssert.Contains(error.Message, "10 values");
    }

    [TestMethod]
    public void LeakyReluWithGanSlopeAndTanhMatchTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(307);
        using var layer = NetworkBuilder.BuildLayers([Layer.LeakyRelu(0.2), Layer.Tanh()], [3, 4, 4], out _);
        VisionParity.AssertMatchesTorch(layer, randn(2, 3, 4, 4) * 3, TestContext);
        Assert.AreEqual("LeakyReLU(0.2)", Layer.LeakyRelu().Describe());
    }

    [TestMethod]
    public void LabelEmbeddingAppendsTheClassVectorLikeTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(308);
        using var layer = Build(Layer.LabelEmbedding(4, 3), [6]);
        var noise = randn(5, 5);
        var labels = tensor(new float[] { 0, 3, 1, 2, 3 }).reshape(5, 1);
        var input = cat([noise, labels], 1);
        VisionParity.AssertMatchesTorch(layer, input, TestContext);

        using var noGrad = no_grad();
        var output = layer.forward(input);
        var table = ((LabelEmbedding)((TorchSharp.Modules.Sequential)layer).children().First()).Weight;
        Assert.IsTrue(output.narrow(1, 5, 3)[1].allclose(table[3]), "row 1 asked for class 3");
        Assert.IsTrue(output.narrow(1, 0, 5).allclose(noise), "the features pass through");
    }

    [TestMethod]
    public void LabelEmbeddingRefusesAClassOutsideTheTable()
    {
        using var scope = NewDisposeScope();
        using var layer = new LabelEmbedding(3, 2);
        var error = Assert.ThrowsExactly<ArgumentException>(() => layer.forward(tensor(new float[] { 0.5f, 3 }).reshape(1, 2)));
        StringAssert.Contains(error.Message, "class index 3");
    }

    [TestMethod]
    public void SpectralNormOfAConvolutionExportsTheNormalisedWeight()
    {
        using var scope = NewDisposeScope();
        manual_seed(309);
        using var layer = Build(Layer.SpectralNorm(Layer.Conv2D(4, kernelSize: 4, stride: 2, padding: 1)), [3, 8, 8]);
        PowerIterate(layer, randn(2, 3, 8, 8), 3);
        VisionParity.AssertMatchesTorch(layer, randn(2, 3, 8, 8), TestContext);
    }

    [TestMethod]
    public void SpectralNormOfADenseAndATransposedConvolutionMatchTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(310);
        using var dense = Build(Layer.SpectralNorm(Layer.Dense(5)), [7]);
        PowerIterate(dense, randn(3, 7), 2);
        VisionParity.AssertMatchesTorch(dense, randn(3, 7), TestContext);

        using var transposed = Build(Layer.SpectralNorm(Layer.ConvTranspose2D(3)), [4, 3, 3]);
        PowerIterate(transposed, randn(2, 4, 3, 3), 2);
        VisionParity.AssertMatchesTorch(transposed, randn(2, 4, 3, 3), TestContext);
    }

    [TestMethod]
    public void SpectralNormBringsTheLargestSingularValueToOne()
    {
        using var scope = NewDisposeScope();
        manual_seed(311);
        using var layer = new SpectralNormalization(nn.Linear(6, 9));
        using (no_grad())
        {
            ((TorchSharp.Modules.Linear)layer.Layer).weight!.mul_(7);
        }

        PowerIterate(layer, randn(2, 6), 30);
        layer.eval();
        var singular = linalg.svdvals(layer.NormalizedWeight().detach());
        TestContext.WriteLine($"largest singular value after normalisation: {singular[0].item<float>()}");
        Assert.AreEqual(1.0, singular[0].item<float>(), 1e-3);
        var raw = linalg.svdvals(((TorchSharp.Modules.Linear)layer.Layer).weight!.detach());
        Assert.IsGreaterThan(2.0, raw[0].item<float>(), "the raw weight is not normalised");
    }

    [TestMethod]
    public void SpectralNormRefusesOtherLayers()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Layer.SpectralNorm(Layer.Relu()));
    }

    [TestMethod]
    public void ADcganGeneratorMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(312);
        using var generator = NetworkBuilder.BuildLayers(
            [Layer.LabelEmbedding(3, 4), Layer.Dense(32), Layer.Reshape(8, 2, 2), Layer.BatchNorm(), Layer.Relu(), Layer.ConvTranspose2D(4), Layer.LeakyRelu(), Layer.Upsample(2), Layer.Conv2D(1), Layer.Tanh()],
            [9], out var output);
        CollectionAssert.AreEqual(new long[] { 1, 8, 8 }, output);
        generator.train();
        using (no_grad())
        {
            generator.forward(cat([randn(6, 8), tensor(new float[] { 0, 1, 2, 0, 1, 2 }).reshape(6, 1)], 1));
        }

        VisionParity.AssertMatchesTorch(generator, cat([randn(3, 8), tensor(new float[] { 2, 0, 1 }).reshape(3, 1)], 1), TestContext);
    }

    private static nn.Module<Tensor, Tensor> Build(NetworkLayer layer, long[] input) => NetworkBuilder.BuildLayers([layer], input, out _);

    private static void PowerIterate(nn.Module<Tensor, Tensor> layer, Tensor input, int times)
    {
        layer.train();
        using var noGrad = no_grad();
        for (int i = 0; i < times; i++)
        {
            layer.forward(input);
        }
    }
}
