using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Observation normalisation as a network layer: <c>clip((x − mean) / √(var + 1e-8), −10, 10)</c>
/// with the running statistics as buffers, so they travel in checkpoints and the ONNX graph. The
/// statistics are kept in float64 beside it and copied in after each update.
/// </summary>
internal sealed class ObservationNormalizer : nn.Module<Tensor, Tensor>, ICheckpointState
{
    private const double Epsilon = 1e-8, ClipValue = 10;
    private readonly RunningMeanVariance _statistics;

    public ObservationNormalizer(int size)
        : base(nameof(ObservationNormalizer))
    {
        _statistics = new RunningMeanVariance(size);
        register_buffer("mean", zeros(size));
        register_buffer("inverse_std", ones(size));
        Publish();
    }

    public string StateKey => "observation_statistics";

    public Tensor Mean => get_buffer("mean")!;

    public Tensor InverseStd => get_buffer("inverse_std")!;

    public override Tensor forward(Tensor input) => ((input - Mean) * InverseStd).clamp(-ClipValue, ClipValue);

    /// <summary>Adds each row of a row-major batch to the statistics.</summary>
    public void Update(ReadOnlySpan<float> batch)
    {
        int size = _statistics.Size;
        for (int row = 0; row < batch.Length / size; row++)
        {
            _statistics.Update(batch.Slice(row * size, size));
        }

        Publish();
    }

    public void SaveState(BinaryWriter writer) => _statistics.Save(writer);

    public void LoadState(BinaryReader reader)
    {
        _statistics.Load(reader, "observation normalisation");
        Publish();
    }

    public static string Export(OnnxExportContext context, ObservationNormalizer module, string input)
    {
        var graph = context.Graph;
        var centred = graph.AddNode("Sub", [input, graph.AddInitializer(context.NameHint("mean"), module.Mean)], nameHint: context.NameHint("centred"));
        var scaled = graph.AddNode("Mul", [centred, graph.AddInitializer(context.NameHint("inverse_std"), module.InverseStd)], nameHint: context.NameHint("scaled"));
        var output = graph.AddNode("Clip", [scaled, graph.AddInitializer(context.NameHint("low"), [(float)-ClipValue], []), graph.AddInitializer(context.NameHint("high"), [(float)ClipValue], [])], nameHint: context.NameHint("clip"));
        context.KeepType(input, output);
        return output;
    }

    private void Publish()
    {
        using var noGrad = no_grad();
        using var mean = tensor(_statistics.Mean.Select(m => (float)m).ToArray());
        using var inverse = tensor(_statistics.Variance.Select(v => (float)(1 / Math.Sqrt(v + Epsilon))).ToArray());
        Mean.copy_(mean);
        InverseStd.copy_(inverse);
    }
}

/// <summary>
/// SB3's actor-critic MlpPolicy: [normalisation] → separate policy and value MLPs (Tanh, orthogonal
/// initialisation: gain 0.01 on the policy output, 1 on the value output), plus a state-independent
/// log standard deviation for continuous actions.
/// </summary>
internal sealed class ActorCritic : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> normalize;
    private readonly Sequential policy;
    private readonly Sequential value;
    private readonly Parameter? log_std;

    public ActorCritic(int observations, int outputs, IReadOnlyList<int> hidden, bool normalizeObservations, bool continuous, double logStdInit)
        : base(nameof(ActorCritic))
    {
        normalize = normalizeObservations ? new ObservationNormalizer(observations) : nn.Identity();
        policy = AgentNetworks.Mlp(observations, hidden, outputs, tanh: true);
        value = AgentNetworks.Mlp(observations, hidden, 1, tanh: true);
        AgentNetworks.OrthogonalInit(policy, 0.01);
        AgentNetworks.OrthogonalInit(value, 1.0);
        if (continuous)
        {
            log_std = new Parameter(full(outputs, logStdInit));
        }

        RegisterComponents();
    }

    public ObservationNormalizer? Normalizer => normalize as ObservationNormalizer;

    public Tensor? LogStd => log_std;

    /// <summary>The policy's output (logits or the Gaussian's mean) for raw observations.</summary>
    public override Tensor forward(Tensor input) => policy.forward(normalize.forward(input));

    /// <summary>Observations as the networks see them (normalised with the current statistics, or unchanged).</summary>
    public Tensor Normalize(Tensor input) => normalize.forward(input);

    /// <summary>The policy's output for normalised observations.</summary>
    public Tensor PolicyOutput(Tensor normalized) => policy.forward(normalized);

    /// <summary>The state value of normalised observations, shape [batch].</summary>
    public Tensor Value(Tensor normalized) => value.forward(normalized).squeeze(1);

    /// <summary>Log-probabilities of <paramref name="actions"/> and the entropy, per row, for normalised observations.</summary>
    public (Tensor LogProbability, Tensor Entropy) Evaluate(Tensor normalized, Tensor actions)
    {
        var output = PolicyOutput(normalized);
        if (log_std is null)
        {
            var logProbabilities = nn.functional.log_softmax(output, 1);
            var logProbability = logProbabilities.gather(1, actions.to_type(ScalarType.Int64).unsqueeze(1)).squeeze(1);
            var entropy = -(logProbabilities.exp() * logProbabilities).sum(1);
            return (logProbability, entropy);
        }

        var std = log_std.exp();
        var z = (actions - output) / std;
        var gaussian = (-0.5 * z * z) - log_std - (0.5 * Math.Log(2 * Math.PI));
        var gaussianEntropy = (0.5 + (0.5 * Math.Log(2 * Math.PI)) + log_std).sum().expand(output.shape[0]);
        return (gaussian.sum(1), gaussianEntropy);
    }

    /// <summary>The deterministic policy as one module for export: normalisation then the policy MLP (shared parameters).</summary>
    public Sequential DeterministicPolicy() => nn.Sequential(("normalize", normalize), ("policy", policy));
}
