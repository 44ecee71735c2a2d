using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// A trained policy over continuous actions: the network's mean action, clipped to the action
/// space. Plays environments directly, and becomes an ordinary ML.NET model with <see cref="CreateModel"/>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Input column</term><description><c>Observation</c>: Vector&lt;Single, n&gt;.</description></item>
/// <item><term>Output column</term><description><c>Action</c>: Vector&lt;Single, d&gt;, within the action space's bounds.</description></item>
/// <item><term>ONNX export</term><description>Yes (the clip is in the graph); loads in a process without this library.</description></item>
/// <item><term>Deterministic</term><description>Yes.</description></item>
/// </list>
/// </remarks>
public sealed class ContinuousPolicy : TrainedPolicy<BoxSpace>
{
    /// <summary>The name of the action column.</summary>
    public const string ActionColumnName = "Action";

    internal ContinuousPolicy(nn.Module<Tensor, Tensor> network, int observationSize, BoxSpace actions, TrainingHistory history, double bestReturn, long bestStep, long? thresholdStep)
        : base(network, observationSize, actions, history, bestReturn, bestStep, thresholdStep)
    {
    }

    /// <summary>The deterministic action for <paramref name="observation"/>, clipped to the action space.</summary>
    /// <exception cref="ArgumentException">The observation's length is not <see cref="TrainedPolicy{TSpace}.ObservationSize"/>.</exception>
    public float[] Act(float[] observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.Length != ObservationSize)
        {
            throw new ArgumentException($"The observation has {observation.Length} values; the policy takes {ObservationSize}.", nameof(observation));
        }

        return Clip(AgentLoop.Forward(Network, observation, Network.parameters().First().device), ActionSpace);
    }

    /// <summary>Plays <paramref name="episodes"/> episodes, episode <c>i</c> from <c>Reset(seed + i)</c>, and returns each episode's return.</summary>
    public IReadOnlyList<double> Evaluate(IEnvironment<float[]> environment, int episodes, int seed)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(episodes);
        return AgentLoop.Play(environment, Act, episodes, seed).Returns;
    }

    /// <summary>The per-row ONNX graph: input <paramref name="observationColumnName"/> <c>[n]</c>, output <c>Action</c> <c>[d]</c> (clipped).</summary>
    public byte[] ExportOnnx(string observationColumnName = DiscretePolicy.ObservationColumnName)
    {
        var graph = new OnnxGraphBuilder("continuous_policy");
        graph.AddInput(observationColumnName, OnnxElementType.Float, ObservationSize);
        var batch = graph.AddNode("Reshape", [observationColumnName, graph.AddInitializer("batch_of_one", [1L, ObservationSize], [2])], nameHint: "batch");
        graph.SetType(batch, new OnnxTensorType(OnnxElementType.Float, [1, ObservationSize]));
        var exporter = AgentNetworks.Exporter();
        var mean = exporter.Export(graph, Network, batch);
        int size = ActionSpace.Size;
        var row = graph.AddNode("Reshape", [mean, graph.AddInitializer("row", [(long)size], [1])], nameHint: "row");
        var low = graph.AddNode("Max", [row, graph.AddInitializer("low", ActionSpace.Low.ToArray(), [size])], nameHint: "above_low");
        var clipped = graph.AddNode("Min", [low, graph.AddInitializer("high", ActionSpace.High.ToArray(), [size])], nameHint: "below_high");
        graph.AddOutput(clipped, ActionColumnName, OnnxElementType.Float, size);
        graph.AddMetadata("ml_deepextensions.component", "continuous_policy");
        return graph.ToBytes();
    }

    /// <summary>The policy as an ML.NET model: an observation column in, <c>Action</c> out. Save it with <c>mlContext.Model.Save(model, policy.InputSchema(), path)</c>; dispose it when done.</summary>
    public PolicyModel CreateModel(string observationColumnName = DiscretePolicy.ObservationColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(observationColumnName);
        var scoring = OnnxScoringChain.Build(ExportOnnx(observationColumnName), [OnnxInput.Column(observationColumnName)], [ActionColumnName], EmptyObservations(observationColumnName));
        return new PolicyModel(scoring, observationColumnName, ObservationSize);
    }

    /// <summary>The schema the model reads: one observation vector column.</summary>
    public DataViewSchema InputSchema(string observationColumnName = DiscretePolicy.ObservationColumnName) => EmptyObservations(observationColumnName).Schema;

    internal static float[] Clip(float[] action, BoxSpace space)
    {
        var clipped = new float[action.Length];
        for (int i = 0; i < action.Length; i++)
        {
            clipped[i] = Math.Clamp(action[i], space.Low[i], space.High[i]);
        }

        return clipped;
    }

    private IDataView EmptyObservations(string column) => DiscretePolicy.EmptyObservations(column, ObservationSize);
}
