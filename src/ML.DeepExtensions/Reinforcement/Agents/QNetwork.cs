using ML.DeepExtensions.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>The multilayer perceptrons of the agents: Linear and ReLU layers, optionally with a dueling head.</summary>
internal static class AgentNetworks
{
    /// <summary>in → (Linear → ReLU)* → Linear(out), as SB3's MlpPolicy; with <paramref name="dueling"/> the last layer is a <see cref="DuelingHead"/>.</summary>
    public static Sequential Mlp(int inputs, IReadOnlyList<int> hidden, int outputs, bool dueling = false, bool tanh = false)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"linear{i}", nn.Linear(width, hidden[i])));
            layers.Add(tanh ? ($"tanh{i}", nn.Tanh()) : ($"relu{i}", nn.ReLU()));
            width = hidden[i];
        }

        layers.Add(("output", dueling ? new DuelingHead(width, outputs) : nn.Linear(width, outputs)));
        return nn.Sequential(layers);
    }

    /// <summary>SB3's orthogonal initialisation of an actor-critic MLP: gain √2 for hidden layers, <paramref name="outputGain"/> for the last, zero biases.</summary>
    public static void OrthogonalInit(Sequential network, double outputGain)
    {
        using var noGrad = no_grad();
        var linears = network.modules().OfType<Linear>().ToList();
        for (int i = 0; i < linears.Count; i++)
        {
            nn.init.orthogonal_(linears[i].weight!, i == linears.Count - 1 ? outputGain : Math.Sqrt(2));
            linears[i].bias?.zero_();
        }
    }

    /// <summary>The exporter with the converters of the agents' own modules.</summary>
    public static OnnxModuleExporter Exporter() => new OnnxModuleExporter()
        .Register<DuelingHead>(DuelingHead.Export)
        .Register<ObservationNormalizer>(ObservationNormalizer.Export)
        .Register<ScaledActor>(SquashedGaussianActor.ExportScaled);

    /// <summary>Exports a network to a per-row graph: input <c>[inputs]</c> named <paramref name="inputName"/>, output <c>[outputs]</c> named <paramref name="outputName"/>.</summary>
    public static byte[] ExportPerRow(nn.Module network, int inputs, int outputs, string inputName, string outputName, string graphName)
    {
        var graph = new OnnxGraphBuilder(graphName);
        graph.AddInput(inputName, OnnxElementType.Float, inputs);
        var batch = graph.AddNode("Reshape", [inputName, graph.AddInitializer("batch_of_one", [1L, inputs], [2])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, [1, inputs]));
        var exporter = Exporter();
        var output = exporter.Export(graph, network, batch);
        var row = graph.AddNode("Reshape", [output, graph.AddInitializer("row", [(long)outputs], [1])], nameHint: "row");
        graph.AddOutput(row, outputName, OnnxElementType.Float, outputs);
        graph.AddMetadata("ml_deepextensions.component", graphName);
        return graph.ToBytes();
    }
}

/// <summary>Wang et al.'s dueling head: Q(s, a) = V(s) + A(s, a) − mean over a of A(s, a).</summary>
internal sealed class DuelingHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear value;
    private readonly Linear advantage;

    public DuelingHead(int inputs, int actions)
        : base(nameof(DuelingHead))
    {
        value = nn.Linear(inputs, 1);
        advantage = nn.Linear(inputs, actions);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var a = advantage.forward(input);
        return (value.forward(input) + a - a.mean([1], keepdim: true)).MoveToOuterDisposeScope();
    }

    public static string Export(OnnxExportContext context, DuelingHead module, string input)
    {
        var graph = context.Graph;
        var v = context.ExportChild(module.value, nameof(value), input);
        var a = context.ExportChild(module.advantage, nameof(advantage), input);
        var mean = graph.AddNode("ReduceMean", [a], [OnnxAttribute.Ints("axes", [1]), OnnxAttribute.Int("keepdims", 1)], context.NameHint("mean"));
        var centred = graph.AddNode("Sub", [a, mean], nameHint: context.NameHint("centred"));
        var q = graph.AddNode("Add", [v, centred], nameHint: context.NameHint("q"));
        if (graph.TryGetType(a) is { } type)
        {
            graph.SetType(q, type);
        }

        return q;
    }
}
