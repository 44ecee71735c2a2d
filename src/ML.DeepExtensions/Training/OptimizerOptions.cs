using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>The optimisation algorithms the engine can create.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, optionally with (Nesterov) momentum.</summary>
    Sgd,

    /// <summary>Adam; weight decay is added to the gradient (L2).</summary>
    Adam,

    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,

    /// <summary>RMSprop.</summary>
    RmsProp,
}

/// <summary>
/// How to create one optimizer. A GAN creates two from two of these; a supervised trainer one.
/// </summary>
public sealed record OptimizerOptions
{
    /// <summary>The algorithm. Default <see cref="OptimizerKind.Adam"/>.</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.Adam;

    /// <summary>Base learning rate; schedules scale it. Default 0.001.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight decay (L2 for SGD, Adam and RMSprop; decoupled for AdamW). Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Momentum for SGD and RMSprop. Default 0.</summary>
    public double Momentum { get; init; }

    /// <summary>Use Nesterov momentum (SGD only; needs <see cref="Momentum"/> &gt; 0).</summary>
    public bool Nesterov { get; init; }

    /// <summary>Adam/AdamW first-moment decay. Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam/AdamW second-moment decay. Default 0.999.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>RMSprop smoothing constant. Default 0.99.</summary>
    public double Alpha { get; init; } = 0.99;

    /// <summary>Numerical-stability term. Default 1e-8.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        OptionChecks.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive number");
        OptionChecks.Require(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must be zero or positive");
        OptionChecks.Require(Momentum >= 0 && Momentum < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
        OptionChecks.Require(!Nesterov || (Kind == OptimizerKind.Sgd && Momentum > 0), nameof(Nesterov), Nesterov, "needs Kind = Sgd and Momentum > 0");
        OptionChecks.Require(Beta1 is >= 0 and < 1, nameof(Beta1), Beta1, "must be in [0, 1)");
        OptionChecks.Require(Beta2 is >= 0 and < 1, nameof(Beta2), Beta2, "must be in [0, 1)");
        OptionChecks.Require(Epsilon > 0, nameof(Epsilon), Epsilon, "must be positive");
    }

    /// <summary>Creates the optimizer over <paramref name="parameters"/>.</summary>
    public optim.Optimizer Create(IEnumerable<Parameter> parameters)
    {
        Validate();
        return Kind switch
        {
            OptimizerKind.Sgd => new KeepAliveOptimizers.SGD(parameters, LearningRate, Momentum, 0, WeightDecay, Nesterov),
            OptimizerKind.Adam => new KeepAliveOptimizers.Adam(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
            OptimizerKind.AdamW => new KeepAliveOptimizers.AdamW(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
            OptimizerKind.RmsProp => new KeepAliveOptimizers.RMSProp(parameters, LearningRate, Alpha, Epsilon, WeightDecay, Momentum),
            _ => throw new InvalidOperationException($"Unknown optimizer kind {Kind}."),
        };
    }

    /// <summary>
    /// Creates the optimizer over several parameter groups, each with a learning-rate factor and an
    /// optional weight decay of its own (the first group is the optimizer's defaults).
    /// </summary>
    internal optim.Optimizer Create(IReadOnlyList<(IReadOnlyList<Parameter> Parameters, double LearningRateFactor, double? WeightDecay)> groups)
    {
        Validate();
        if (groups.Count == 1 && groups[0].LearningRateFactor == 1 && groups[0].WeightDecay is null)
        {
            return Create(groups[0].Parameters);
        }

        return Kind switch
        {
            OptimizerKind.Sgd => new KeepAliveOptimizers.SGD(groups.Select(g => new SGD.ParamGroup(g.Parameters, LearningRate * g.LearningRateFactor, Momentum, 0, g.WeightDecay ?? WeightDecay, Nesterov)), LearningRate, Momentum, 0, WeightDecay, Nesterov),
            OptimizerKind.Adam => new KeepAliveOptimizers.Adam(groups.Select(g => new Adam.ParamGroup(g.Parameters, LearningRate * g.LearningRateFactor, Beta1, Beta2, Epsilon, g.WeightDecay ?? WeightDecay)), LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
            OptimizerKind.AdamW => new KeepAliveOptimizers.AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, LearningRate * g.LearningRateFactor, Beta1, Beta2, Epsilon, g.WeightDecay ?? WeightDecay)), LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
            OptimizerKind.RmsProp => new KeepAliveOptimizers.RMSProp(groups.Select(g => new RMSProp.ParamGroup(g.Parameters, LearningRate * g.LearningRateFactor, Alpha, Epsilon, g.WeightDecay ?? WeightDecay, Momentum)), LearningRate, Alpha, Epsilon, WeightDecay, Momentum),
            _ => throw new InvalidOperationException($"Unknown optimizer kind {Kind}."),
        };
    }
}
