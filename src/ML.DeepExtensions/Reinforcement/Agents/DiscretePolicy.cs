using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// A trained policy over discrete actions: the greedy action of a network's per-action values (Q
/// values for DQN, action logits for PPO and A2C). Plays environments directly, and becomes an
/// ordinary ML.NET model with <see cref="CreateModel"/>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Input column</term><description><c>Observation</c>: Vector&lt;Single, n&gt;, n = the observation size.</description></item>
/// <item><term>Output columns</term><description><c>ActionValues</c>: Vector&lt;Single, k&gt; (the network's output per action);
/// <c>PredictedLabel</c>: the greedy action as a key (key value <c>a − Start + 1</c>).</description></item>
/// <item><term>ONNX export</term><description>Yes: the model is an ONNX graph inside ML.NET's OnnxTransformer; it loads in a process without this library.</description></item>
/// <item><term>Deterministic</term><description>Yes: argmax, the first action on ties.</description></item>
/// </list>
/// </remarks>
public sealed class DiscretePolicy : TrainedPolicy<DiscreteSpace>
{
    /// <summary>The default name of the observation column.</summary>
    public const string ObservationColumnName = "Observation";

    /// <summary>The name of the per-action values column.</summary>
    public const string ActionValuesColumnName = "ActionValues";

    internal DiscretePolicy(nn.Module<Tensor, Tensor> network, int observationSize, DiscreteSpace actions, TrainingHistory history, double bestReturn, long bestStep, long? thresholdStep)
        : base(network, observationSize, actions, history, bestReturn, bestStep, thresholdStep)
    {
    }

    /// <summary>The greedy action for <paramref name="observation"/>.</summary>
    /// <exception cref="ArgumentException">The observation's length is not <see cref="TrainedPolicy{TSpace}.ObservationSize"/>.</exception>
    public int Act(float[] observation) => ActionSpace.Start + AgentLoop.ArgMax(ActionValues(observation));

    /// <summary>The network's value for each action.</summary>
    /// <exception cref="ArgumentException">The observation's length is not <see cref="TrainedPolicy{TSpace}.ObservationSize"/>.</exception>
    public float[] ActionValues(float[] observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (observation.Length != ObservationSize)
        {
            throw new ArgumentException($"The observation has {observation.Length} values; the policy takes {ObservationSize}.", nameof(observation));
        }

        return AgentLoop.Forward(Network, observation, Network.parameters().First().device);
    }

    /// <summary>Plays <paramref name="episodes"/> episodes greedily, episode <c>i</c> from <c>Reset(seed + i)</c>, and returns each episode's return.</summary>
    public IReadOnlyList<double> Evaluate(IEnvironment<int> environment, int episodes, int seed)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(episodes);
        return AgentLoop.Play(environment, Act, episodes, seed).Returns;
    }

    /// <summary>The per-row ONNX graph: input <paramref name="observationColumnName"/> <c>[n]</c>, output <c>ActionValues</c> <c>[k]</c>.</summary>
    public byte[] ExportOnnx(string observationColumnName = ObservationColumnName) =>
        AgentNetworks.ExportPerRow(Network, ObservationSize, ActionSpace.Count, observationColumnName, ActionValuesColumnName, "discrete_policy");

    /// <summary>
    /// The policy as an ML.NET model (ML.NET's OnnxTransformer and multiclass scorer): an observation
    /// column in, <c>ActionValues</c> and the greedy action as the key <c>PredictedLabel</c> out. Save it
    /// with <c>mlContext.Model.Save(model, policy.InputSchema(), path)</c>; dispose it when done.
    /// </summary>
    public PolicyModel CreateModel(string observationColumnName = ObservationColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(observationColumnName);
        var data = EmptyObservations(observationColumnName);
        string[] names = Enumerable.Range(ActionSpace.Start, ActionSpace.Count).Select(a => a.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var environment = new MLContext(seed: 0);
        var scoring = OnnxScoringChain.Build(ExportOnnx(observationColumnName), [OnnxInput.Column(observationColumnName)], [ActionValuesColumnName], data,
            scored => MLNetScorers.Multiclass(environment, scored.Schema, ActionValuesColumnName, ActionSpace.Count, labelColumn: null!, names),
            dropAfterScoring: [ColumnNames.Score]);
        return new PolicyModel(scoring, observationColumnName, ObservationSize);
    }

    /// <summary>The schema the model reads: one observation vector column.</summary>
    public DataViewSchema InputSchema(string observationColumnName = ObservationColumnName) => EmptyObservations(observationColumnName).Schema;

    private IDataView EmptyObservations(string column) => EmptyObservations(column, ObservationSize);

    internal static IDataView EmptyObservations(string column, int size)
    {
        var definition = SchemaDefinition.Create(typeof(ObservationRow));
        definition[0].ColumnName = column;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        return new MLContext(seed: 0).Data.LoadFromEnumerable(Array.Empty<ObservationRow>(), definition);
    }

    private sealed class ObservationRow
    {
        public float[] Observation { get; set; } = [];
    }
}
