using ML.DeepExtensions.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>SAC's actor: a ReLU trunk, then a mean and a log-standard-deviation head; actions are tanh-squashed to [−1, 1].</summary>
internal sealed class SquashedGaussianActor : nn.Module<Tensor, Tensor>
{
    private const double LogStdMin = -20, LogStdMax = 2;
    private readonly Sequential trunk;
    private readonly Linear mean;
    private readonly Linear log_std;

    public SquashedGaussianActor(int observations, IReadOnlyList<int> hidden, int actions)
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
        log_std = nn.Linear(width, actions);
        RegisterComponents();
    }

    /// <summary>The deterministic action in [−1, 1]: tanh of the mean.</summary>
    public override Tensor forward(Tensor input) => mean.forward(trunk.forward(input)).tanh();

    /// <summary>The reparameterised sample tanh(μ + σ·noise) and its log-probability with the tanh correction.</summary>
    public (Tensor Action, Tensor LogProbability) Sample(Tensor observations, Tensor noise)
    {
        var h = trunk.forward(observations);
        var mu = mean.forward(h);
        var logStd = log_std.forward(h).clamp(LogStdMin, LogStdMax);
        var action = (mu + (logStd.exp() * noise)).tanh();
        var gaussian = ((-0.5 * noise * noise) - logStd - (0.5 * Math.Log(2 * Math.PI))).sum(1);
        var correction = (1 - (action * action) + 1e-6).log().sum(1);
        return (action, gaussian - correction);
    }

    /// <summary>The deterministic action mapped from [−1, 1] to the box's bounds.</summary>
    public static string ExportScaled(OnnxExportContext context, ScaledActor module, string input)
    {
        var graph = context.Graph;
        var actor = module.Actor;
        var h = context.ExportChild(actor.trunk, "actor.trunk", input);
        var mu = context.ExportChild(actor.mean, "actor.mean", h);
        var squashed = graph.AddNode("Tanh", [mu], nameHint: context.NameHint("tanh"));
        var scaled = graph.AddNode("Mul", [squashed, graph.AddInitializer(context.NameHint("half_range"), module.HalfRange, [module.HalfRange.Length])], nameHint: context.NameHint("scaled"));
        var output = graph.AddNode("Add", [scaled, graph.AddInitializer(context.NameHint("centre"), module.Centre, [module.Centre.Length])], nameHint: context.NameHint("action"));
        context.KeepType(mu, output);
        return output;
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
