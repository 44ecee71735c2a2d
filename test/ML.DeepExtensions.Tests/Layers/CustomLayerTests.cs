using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Layers;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Networks;
using ML.DeepExtensions.Tests.Tabular;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Layers;

/// <summary>
/// A layer type defined here, outside the library, with its shape rule, its module and its ONNX
/// converter: it trains inside an MLP, exports, scores through ML.NET, saves, and rebuilds.
/// </summary>
[TestClass]
public sealed class CustomLayerTests
{
    [TestMethod]
    public void ACustomLayerTrainsExportsScoresThroughMLNetAndRebuilds()
    {
        var context = new MLContext(seed: 2);
        var rows = TabularFixtures.Rows(240);
        var data = TabularFixtures.Load(context, rows);
        var options = new MlpMulticlassOptions
        {
            Architecture = [Layer.Dense(16), new ScaledSoftsignLayer(2.5f), Layer.Dense(8), Layer.Relu()],
            Epochs = 30,
            Optimizer = new() { LearningRate = 1e-2 },
        };

        var model = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(options)).Fit(data);

        var scored = model.Transform(data);
        var metrics = context.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThan(0.9, metrics.MicroAccuracy, $"accuracy {metrics.MicroAccuracy}");
        Assert.IsInstanceOfType<ScaledSoftsign>(((nn.Module)model.LastTransformer.Network).named_children().Single(c => c.name == "layer1").module);

        using var stream = new MemoryStream();
        context.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext().Model.Load(stream, out _);
        var before = scored.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var after = loaded.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        Assert.IsLessThanOrEqualTo(1e-5, before.Zip(after, (a, b) => Math.Abs(a - b)).Max());

        var rebuilt = PretrainedNetwork.FromOnnxModel(model.LastTransformer.OnnxModel.ToArray());
        Assert.AreEqual(new ScaledSoftsignLayer(2.5f), rebuilt.Description.Layers[1]);
        var features = rows.Take(10).Select(r => r.Features).ToArray();
        CollectionAssert.AreEqual(
            PretrainedNetworkTests.Logits(model.LastTransformer.Network, features, [TabularFixtures.FeatureCount]),
            PretrainedNetworkTests.Logits(rebuilt.Network, features, [TabularFixtures.FeatureCount]));
    }

    [TestMethod]
    public void ACustomLayersShapeRuleIsCheckedBeforeAnyDataIsRead()
    {
        var context = new MLContext(seed: 2);
        var data = TabularFixtures.Load(context, TabularFixtures.Rows(20));
        var options = new MlpMulticlassOptions { Architecture = [Layer.Dense(4), new ScaledSoftsignLayer(-1f)] };

        var error = Assert.ThrowsExactly<LayerShapeException>(
            () => TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(options)).Fit(data));
        StringAssert.Contains(error.Message, "Layer 1");
        StringAssert.Contains(error.Message, "ScaledSoftsign(-1)");
    }
}

/// <summary>scale · x / (1 + |x|), elementwise: a layer the library does not ship.</summary>
public sealed record ScaledSoftsignLayer(float Scale) : NetworkLayer
{
    public override long[] OutputShape(long[] input) => Scale > 0
        ? input
        : throw new LayerShapeException($"{Describe()} needs a positive scale.");

    public override nn.Module<Tensor, Tensor> Build(long[] input) => new ScaledSoftsign(Scale);

    public override string Describe() => FormattableString.Invariant($"ScaledSoftsign({Scale})");

    public override void RegisterOnnxConverters(OnnxModuleExporter exporter) =>
        exporter.Register<ScaledSoftsign>((context, module, input) =>
        {
            var softsign = context.Graph.AddNode("Softsign", [input], nameHint: context.NameHint("softsign"));
            var scale = context.Graph.AddInitializer(context.NameHint("scale"), [module.Scale], []);
            var output = context.Graph.AddNode("Mul", [softsign, scale], nameHint: context.NameHint("scaled"));
            context.KeepType(input, output);
            return output;
        });
}

/// <summary>The module of <see cref="ScaledSoftsignLayer"/>.</summary>
public sealed class ScaledSoftsign : nn.Module<Tensor, Tensor>
{
    public ScaledSoftsign(float scale)
        : base(nameof(ScaledSoftsign)) => Scale = scale;

    public float Scale { get; }

    public override Tensor forward(Tensor input) => Scale * nn.functional.softsign(input);
}
