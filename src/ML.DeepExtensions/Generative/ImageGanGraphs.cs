using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Onnx;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// The per-row ONNX graphs of a trained GAN, shaped for ML.NET's OnnxTransformer (no batch dimension
/// in the declared inputs and outputs).
/// </summary>
internal static class ImageGanGraphs
{
    public const string DiscriminatorRawOutput = "ImageGan.Realness";

    /// <summary>
    /// Noise [Z] (+ the label's key value, UInt32 [1]: key k is class k − 1; the missing key 0 is
    /// read as the first class) → the generator → pixels (x + 1)·scale/2 as [C, H, W].
    /// </summary>
    public static byte[] Generator(ImageGanOptions options, nn.Module<Tensor, Tensor> generator, IReadOnlyList<NetworkLayer> layers, long[] imageShape, int classes)
    {
        var graph = new OnnxGraphBuilder("ImageGan.Generator");
        var noiseInput = graph.AddInput(options.NoiseColumnName, OnnxElementType.Float, options.NoiseSize);
        var noise = graph.AddNode("Reshape", [noiseInput, graph.AddInitializer("noise_shape", [1L, options.NoiseSize], [2])], nameHint: "noise_batch");
        graph.SetType(noise, new OnnxTensorType(OnnxElementType.Float, [1, options.NoiseSize]));
        string input = noise;
        if (classes > 0)
        {
            var keysInput = graph.AddInput(LabelKeysInput(options), OnnxElementType.UInt32, 1, 1);
            var keys = graph.AddNode("Cast", [keysInput], [OnnxAttribute.Int("to", (long)OnnxElementType.Float)], "label_key");
            var index = graph.AddNode("Sub", [keys, graph.AddInitializer("one", [1f], [])], nameHint: "class_index");
            var clamped = graph.AddNode("Max", [index, graph.AddInitializer("first_class", [0f], [])], nameHint: "known_class");
            var column = graph.AddNode("Reshape", [clamped, graph.AddInitializer("label_shape", [1L, 1L], [2])], nameHint: "class_column");
            input = graph.AddNode("Concat", [noise, column], [OnnxAttribute.Int("axis", 1)], "generator_input");
            graph.SetType(input, new OnnxTensorType(OnnxElementType.Float, [1, options.NoiseSize + 1]));
        }

        var exporter = Exporter(layers);
        var images = exporter.Export(graph, generator, input);
        var shifted = graph.AddNode("Add", [images, graph.AddInitializer("plus_one", [1f], [])], nameHint: "shifted");
        var pixels = graph.AddNode("Mul", [shifted, graph.AddInitializer("half_scale", [options.PixelScale / 2], [])], nameHint: "pixels");
        var output = graph.AddNode("Reshape", [pixels, graph.AddInitializer("image_shape", imageShape, [3])], nameHint: "image");
        graph.AddOutput(output, options.GeneratedColumnName, OnnxElementType.Float, [.. imageShape.Select(d => (OnnxDim)d)]);
        graph.AddMetadata("ml_deepextensions.component", "ImageGan.Generator");
        return graph.ToBytes();
    }

    /// <summary>Pixels [C·H·W] → x·2/scale − 1 as [1, C, H, W] → the discriminator → its realness logit [1].</summary>
    public static byte[] Discriminator(ImageGanOptions options, nn.Module<Tensor, Tensor> discriminator, IReadOnlyList<NetworkLayer> layers, long[] imageShape)
    {
        var graph = new OnnxGraphBuilder("ImageGan.Discriminator");
        long size = imageShape.Aggregate(1L, (a, b) => a * b);
        var pixels = graph.AddInput(options.FeatureColumnName, OnnxElementType.Float, size);
        long[] batchShape = [1, .. imageShape];
        var batch = graph.AddNode("Reshape", [pixels, graph.AddInitializer("batch_of_one", batchShape, [4])], nameHint: "batch");
        var scaled = graph.AddNode("Mul", [batch, graph.AddInitializer("two_over_scale", [2f / options.PixelScale], [])], nameHint: "scaled");
        var centered = graph.AddNode("Sub", [scaled, graph.AddInitializer("one", [1f], [])], nameHint: "centered");
        graph.SetType(centered, new OnnxTensorType(OnnxElementType.Float, batchShape.Select(d => (OnnxDim)d)));
        var outputs = Exporter(layers).Export(graph, discriminator, centered);
        var realness = graph.AddNode(
            "Slice",
            [outputs, graph.AddInitializer("zero", [0L], [1]), graph.AddInitializer("one_index", [1L], [1]), graph.AddInitializer("axis_one", [1L], [1])],
            nameHint: "realness_column");
        var flat = graph.AddNode("Reshape", [realness, graph.AddInitializer("flat", [1L], [1])], nameHint: "realness");
        graph.AddOutput(flat, DiscriminatorRawOutput, OnnxElementType.Float, 1);
        graph.AddMetadata("ml_deepextensions.component", "ImageGan.Discriminator");
        return graph.ToBytes();
    }

    /// <summary>The generator graph's label input: the key values of the label column, named after it.</summary>
    public static string LabelKeysInput(ImageGanOptions options) => $"{options.LabelColumnName}.keys";

    private static OnnxModuleExporter Exporter(IReadOnlyList<NetworkLayer> layers)
    {
        var exporter = new OnnxModuleExporter();
        foreach (var layer in layers)
        {
            layer.RegisterOnnxConverters(exporter);
        }

        return exporter;
    }
}
