using ML.DeepExtensions.Training;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// SAC's actor: a ReLU trunk, then a mean head and either a log-standard-deviation head or, with
/// generalized state-dependent exploration (gSDE), a learned log-std matrix over the trunk's features;
/// actions are tanh-squashed to [−1, 1].
/// </summary>
/// <remarks>
/// gSDE (Raffin et al. 2021, as Stable-Baselines3's StateDependentNoiseDistribution with a squashed
/// output and learned features): the pre-squash action is μ(s) + z(s)·W with z(s) the trunk's features
/// and W a noise matrix drawn from N(0, σ²) elementwise, σ = exp(log_std) a [features, actions] matrix
/// (one column broadcast over the actions when not full); its density is N(μ, (z²·σ² + 1e-6)^½). The
/// mean is clipped to [−2, 2] as SB3 does with gSDE. W stays fixed between resamplings, so exploration
/// is smooth along a trajectory.
/// </remarks>
internal sealed class SquashedGaussianActor : nn.Module<Tensor, Tensor>
{
    private const double LogStdMin = -20, LogStdMax = 2;
    private const double SdeMeanClip = 2, SdeEpsilon = 1e-6;
    private readonly Sequential trunk;
    private readonly Linear mean;
    private readonly Linear? log_std_head;
    private readonly Parameter? log_std;

    public SquashedGaussianActor(int observations, IReadOnlyList<int> hidden, int actions, StateDependentSettings? sde = null)
        : base(nameof(SquashedGaussianActor))
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = observations;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"linear{i}", nn.Linear(width, hidden[i])));
            layers.Add(($"relu{i}", nn.ReLU()));
            width = hidden[i];
        }

        trunk = nn.Sequential(layers);
        mean = nn.Linear(width, actions);
        FeatureSize = width;
        ActionSize = actions;
        Sde = sde;
        if (sde is { } settings)
        {
            log_std = new Parameter(full([width, settings.FullStd ? actions : 1], (float)settings.LogStdInit));
        }
        else
        {
            log_std_head = nn.Linear(width, actions);
        }

        RegisterComponents();
    }

    /// <summary>The gSDE settings, or null for the state-independent Gaussian head.</summary>
    public StateDependentSettings? Sde { get; }

    /// <summary>Width of the trunk's features (the rows of the gSDE noise matrix).</summary>
    public int FeatureSize { get; }

    public int ActionSize { get; }

    /// <summary>The deterministic action in [−1, 1]: tanh of the mean (clipped to [−2, 2] with gSDE).</summary>
    public override Tensor forward(Tensor input) => Mean(trunk.forward(input)).tanh();

    /// <summary>The reparameterised sample tanh(μ + σ·noise) and its log-probability with the tanh correction (without gSDE).</summary>
    public (Tensor Action, Tensor LogProbability) Sample(Tensor observations, Tensor noise)
    {
        if (log_std_head is null)
        {
            throw new InvalidOperationException("This actor explores with gSDE: call SampleStateDependent.");
        }

        var h = trunk.forward(observations);
        var mu = mean.forward(h);
        var logStd = log_std_head.forward(h).clamp(LogStdMin, LogStdMax);
        var action = (mu + (logStd.exp() * noise)).tanh();
        var gaussian = ((-0.5 * noise * noise) - logStd - (0.5 * Math.Log(2 * Math.PI))).sum(1);
        var correction = (1 - (action * action) + 1e-6).log().sum(1);
        return (action, gaussian - correction);
    }

    /// <summary>σ as a [features, actions] matrix.</summary>
    public Tensor SdeStd()
    {
        var std = RequireSde().exp();
        return std.shape[1] == ActionSize ? std : std.expand(FeatureSize, ActionSize);
    }

    /// <summary>With gSDE: tanh(μ + z·W) for the noise matrix <paramref name="weights"/> [features, actions], and its log-probability.</summary>
    public (Tensor Action, Tensor LogProbability) SampleStateDependent(Tensor observations, Tensor weights)
    {
        var z = trunk.forward(observations);
        var mu = Mean(z);
        var noise = z.matmul(weights);
        var variance = (z * z).matmul(SdeStd().pow(2)) + SdeEpsilon;
        var gaussian = ((-0.5 * noise * noise / variance) - (0.5 * variance.log()) - (0.5 * Math.Log(2 * Math.PI))).sum(1);
        var action = (mu + noise).tanh();
        var correction = (1 - (action * action) + 1e-6).log().sum(1);
        return (action, gaussian - correction);
    }

    private Parameter RequireSde() => log_std ?? throw new InvalidOperationException("This actor has no gSDE log-std matrix.");

    private Tensor Mean(Tensor features)
    {
        var mu = mean.forward(features);
        return Sde is null ? mu : mu.clamp(-SdeMeanClip, SdeMeanClip);
    }

    /// <summary>The deterministic action mapped from [−1, 1] to the box's bounds.</summary>
    public static string ExportScaled(OnnxExportContext context, ScaledActor module, string input)
    {
        var graph = context.Graph;
        var actor = module.Actor;
        var h = context.ExportChild(actor.trunk, "actor.trunk", input);
        var mu = context.ExportChild(actor.mean, "actor.mean", h);
        string clipped = mu;
        if (actor.Sde is not null)
        {
            clipped = graph.AddNode("Clip", [mu, graph.AddInitializer(context.NameHint("mean_low"), [(float)-SdeMeanClip], []), graph.AddInitializer(context.NameHint("mean_high"), [(float)SdeMeanClip], [])], nameHint: context.NameHint("mean_clip"));
        }

        var squashed = graph.AddNode("Tanh", [clipped], nameHint: context.NameHint("tanh"));
        var scaled = graph.AddNode("Mul", [squashed, graph.AddInitializer(context.NameHint("half_range"), module.HalfRange, [module.HalfRange.Length])], nameHint: context.NameHint("scaled"));
        var output = graph.AddNode("Add", [scaled, graph.AddInitializer(context.NameHint("centre"), module.Centre, [module.Centre.Length])], nameHint: context.NameHint("action"));
        context.KeepType(mu, output);
        return output;
    }
}

/// <summary>gSDE settings of an actor: the initial log σ and whether σ has one column per action.</summary>
internal readonly record struct StateDependentSettings(double LogStdInit, bool FullStd);

/// <summary>
/// The gSDE noise matrix W the rollout explores with, [features, actions] row-major; resampled at the
/// start of each rollout and every <see cref="SacOptions.StateDependentSampleFrequency"/> steps, and
/// checkpointed with the run so a resumed run explores with the same W.
/// </summary>
internal sealed class ExplorationMatrix(int rows, int columns) : ICheckpointState
{
    public float[] Values { get; private set; } = new float[rows * columns];

    public string StateKey => "sde_exploration_matrix";

    /// <summary>Draws W = σ ⊙ ε with ε standard normal from <paramref name="random"/>.</summary>
    public void Resample(float[] std, Pcg64 random)
    {
        for (int i = 0; i < Values.Length; i++)
        {
            Values[i] = std[i] * (float)random.NextNormal();
        }
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(Values.Length);
        foreach (float value in Values)
        {
            writer.Write(value);
        }
    }

    public void LoadState(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length != Values.Length)
        {
            throw new InvalidDataException($"The saved gSDE noise matrix holds {length} values; this run's holds {Values.Length}.");
        }

        for (int i = 0; i < length; i++)
        {
            Values[i] = reader.ReadSingle();
        }
    }
}

/// <summary>An actor's deterministic action in the environment's units: centre + half range × tanh(μ).</summary>
internal sealed class ScaledActor : nn.Module<Tensor, Tensor>
{
    private readonly SquashedGaussianActor actor;

    public ScaledActor(SquashedGaussianActor actor, BoxSpace space)
        : base(nameof(ScaledActor))
    {
        this.actor = actor;
        HalfRange = Enumerable.Range(0, space.Size).Select(i => (space.High[i] - space.Low[i]) / 2).ToArray();
        Centre = Enumerable.Range(0, space.Size).Select(i => (space.High[i] + space.Low[i]) / 2).ToArray();
        RegisterComponents();
    }

    public SquashedGaussianActor Actor => actor;

    public float[] HalfRange { get; }

    public float[] Centre { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var device = input.device;
        return ((actor.forward(input) * tensor(HalfRange, device: device)) + tensor(Centre, device: device)).MoveToOuterDisposeScope();
    }
}

/// <summary>Twin Q networks over (observation, action): two ReLU MLPs.</summary>
internal sealed class TwinCritic : nn.Module<Tensor, Tensor>
{
    private readonly Sequential q1;
    private readonly Sequential q2;

    public TwinCritic(int observations, int actions, IReadOnlyList<int> hidden)
        : base(nameof(TwinCritic))
    {
        q1 = AgentNetworks.Mlp(observations + actions, hidden, 1);
        q2 = AgentNetworks.Mlp(observations + actions, hidden, 1);
        RegisterComponents();
    }

    /// <summary>Both Q values, shape [batch, 2], for the concatenated (observation, action).</summary>
    public override Tensor forward(Tensor input) => cat([q1.forward(input), q2.forward(input)], 1);

    public (Tensor Q1, Tensor Q2) Values(Tensor observations, Tensor actions)
    {
        var joined = cat([observations, actions], 1);
        return (q1.forward(joined).squeeze(1), q2.forward(joined).squeeze(1));
    }
}

/// <summary>SAC's entropy temperature as a module (log α), so the run checkpoints and optimises it like a network.</summary>
internal sealed class EntropyTemperature : nn.Module
{
    private readonly Parameter log_alpha;

    public EntropyTemperature(double initial)
        : base(nameof(EntropyTemperature))
    {
        log_alpha = new Parameter(tensor(new[] { (float)Math.Log(initial) }));
        RegisterComponents();
    }

    public Tensor LogAlpha => log_alpha;
}
