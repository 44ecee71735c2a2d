using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class OnnxModuleExporterTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ExportCompositeMlpMatchesTorch()
    {
        using var scope = NewDisposeScope();
        manual_seed(41);
        using var mlp = CreateMlp();
        NormalizationParityTests.TrainRunningStatistics(mlp, 16, 6);
        ModuleParity.AssertMatchesTorch(mlp, randn(5, 6) * 3 + 1, ["N", 6], TestContext);
    }

    [TestMethod]
    public void ExportModuleInTrainingModeStillExportsInferenceForm()
    {
        using var scope = NewDisposeScope();
        manual_seed(42);
        using var mlp = CreateMlp();
        NormalizationParityTests.TrainRunningStatistics(mlp, 16, 6);
        var input = randn(5, 6);
        Tensor expected;
        using (no_grad())
        {
            expected = mlp.forward(input);
        }

        mlp.train();
        var model = ModuleParity.Export(mlp, ["N", 6], 2);
        Assert.IsTrue(mlp.training, "export must not change the module's mode");

        var (actual, _) = OnnxRuntimeRunner.RunFloat(model, ModuleParity.InputName, input.data<float>().ToArray(), input.shape, ModuleParity.OutputName);
        var maxDiff = expected.data<float>().ToArray().Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.IsTrue(maxDiff <= ModuleParity.Tolerance, $"max abs difference {maxDiff:E2}");
    }

    [TestMethod]
    public void ExportUnsupportedModuleThrowsNotSupportedNamingTypeAndPath()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(
            ("encoder", nn.Sequential(("0", nn.Linear(4, 4)), ("scale", new Doubler()))),
            ("head", nn.Linear(4, 2)));
        var graph = new OnnxGraphBuilder();
        var input = graph.AddInput("x", OnnxElementType.Float, "N", 4);

        var error = Assert.ThrowsExactly<NotSupportedException>(() => new OnnxModuleExporter().Export(graph, network, input));

        StringAssert.Contains(error.Message, typeof(Doubler).FullName!);
        StringAssert.Contains(error.Message, "'encoder.scale'");
    }

    [TestMethod]
    public void ExportModuleImplementingIOnnxExportableUsesItsOwnGraph()
    {
        using var scope = NewDisposeScope();
        manual_seed(43);
        using var network = nn.Sequential(("0", nn.Linear(4, 3)), ("1", new ExportableDoubler()));
        ModuleParity.AssertMatchesTorch(network, randn(5, 4), ["N", 4], TestContext);
    }

    [TestMethod]
    public void ExportRegisteredConverterIsUsedForItsModuleType()
    {
        using var scope = NewDisposeScope();
        manual_seed(44);
        using var network = nn.Sequential(("0", new Doubler()), ("1", nn.Tanh()));
        var exporter = new OnnxModuleExporter().Register<Doubler>((context, module, input) =>
            context.Graph.AddNode("Add", [input, input], nameHint: context.NameHint("doubled")));
        ModuleParity.AssertMatchesTorch(network, randn(5, 4), ["N", 4], TestContext, exporter);
    }

    [TestMethod]
    public void ExportWithoutBuiltInConvertersRejectsLinear()
    {
        using var scope = NewDisposeScope();
        using var linear = nn.Linear(4, 2);
        var graph = new OnnxGraphBuilder();
        var input = graph.AddInput("x", OnnxElementType.Float, "N", 4);

        var error = Assert.ThrowsExactly<NotSupportedException>(() => new OnnxModuleExporter(includeBuiltInConverters: false).Export(graph, linear, input));

        StringAssert.Contains(error.Message, "TorchSharp.Modules.Linear");
        StringAssert.Contains(error.Message, "root module");
    }

    [TestMethod]
    public void ExportBatchNormWithoutRunningStatisticsThrowsNotSupported()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("norm", nn.BatchNorm1d(4, track_running_stats: false)));
        var graph = new OnnxGraphBuilder();
        var input = graph.AddInput("x", OnnxElementType.Float, "N", 4);

        var error = Assert.ThrowsExactly<NotSupportedException>(() => new OnnxModuleExporter().Export(graph, network, input));

        StringAssert.Contains(error.Message, "'norm'");
        StringAssert.Contains(error.Message, "running statistics");
    }

    [TestMethod]
    public void ExportInputNotInGraphThrowsArgumentException()
    {
        using var scope = NewDisposeScope();
        using var relu = nn.ReLU();
        var graph = new OnnxGraphBuilder();
        graph.AddInput("x", OnnxElementType.Float, "N", 4);

        Assert.ThrowsExactly<ArgumentException>(() => new OnnxModuleExporter().Export(graph, relu, "y"));
    }

    [TestMethod]
    public void ExportNamesValuesAfterModulePaths()
    {
        using var scope = NewDisposeScope();
        using var network = nn.Sequential(("hidden", nn.Linear(4, 3)), ("act", nn.ReLU()));
        var graph = new OnnxGraphBuilder();
        var input = graph.AddInput("x", OnnxElementType.Float, "N", 4);

        var output = new OnnxModuleExporter().Export(graph, network, input);

        Assert.AreEqual("act.relu", output);
        Assert.IsTrue(graph.IsDefined("hidden.weight"));
        Assert.IsTrue(graph.IsDefined("hidden.bias"));
        Assert.AreEqual("Float[N,3]", graph.TryGetType(output)?.ToString());
    }

    // Standardization → Linear → BatchNorm1d → ReLU → Dropout → Linear → Softmax, as the MLP head builds it.
    private static nn.Module<Tensor, Tensor> CreateMlp() => nn.Sequential(
        ("standardize", new Standardization([0.5f, -1f, 2f, 0f, 3f, -0.5f], [1f, 2f, 0.5f, 1.5f, 3f, 0.1f])),
        ("hidden", nn.Linear(6, 8)),
        ("norm", nn.BatchNorm1d(8)),
        ("act", nn.ReLU()),
        ("drop", nn.Dropout(0.3)),
        ("out", nn.Linear(8, 3)),
        ("softmax", nn.Softmax(1)));

    private sealed class Doubler : nn.Module<Tensor, Tensor>
    {
        public Doubler()
            : base(nameof(Doubler))
        {
        }

        public override Tensor forward(Tensor input) => input * 2;
    }

    private sealed class ExportableDoubler : nn.Module<Tensor, Tensor>, IOnnxExportable
    {
        public ExportableDoubler()
            : base(nameof(ExportableDoubler))
        {
        }

        public override Tensor forward(Tensor input) => input * 2;

        public string ExportOnnx(OnnxGraphBuilder graph, string input)
        {
            var two = graph.AddInitializer("two", [2f], []);
            return graph.AddNode("Mul", [input, two], nameHint: "doubled");
        }
    }
}
