using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Soft actor-critic for continuous actions on the shared <see cref="TrainingRun"/>, following
/// Stable-Baselines3's SAC: uniformly random actions until <see cref="SacOptions.LearningStarts"/>,
/// then samples of the squashed Gaussian actor; per gradient step the temperature, the twin critics
/// (soft Bellman target with the minimum of the target critics) and the actor are updated, then the
/// target critics are Polyak-averaged. Time-limit truncation is bootstrapped, not terminal.
/// </summary>
/// <remarks>
/// One run step is one environment step. Checkpoints hold the actor, the critics and their targets,
/// the temperature, the three optimizers, the replay buffer, the environment and the generator that
/// draws exploration and reparameterisation noise: a resumed run equals an uninterrupted one.
/// <code>
/// var policy = new SacAgent(new SacOptions(SacPreset.Pendulum) { Seed = 1 }).Train(ClassicControl.Pendulum);
/// </code>
/// </remarks>
public sealed class SacAgent
{
    /// <summary>Creates the agent; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is invalid; the message names it.</exception>
    public SacAgent(SacOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>Creates the agent with SB3's defaults, <paramref name="maxSteps"/> environment steps and a seed.</summary>
    public SacAgent(long maxSteps = 100_000, int? seed = null)
        : this(new SacOptions { MaxSteps = maxSteps, Seed = seed })
    {
    }

    /// <summary>The options.</summary>
    public SacOptions Options { get; }

    /// <summary>Trains on environments with continuous actions and returns the deterministic policy (the squashed mean action).</summary>
    /// <param name="createEnvironment">Makes a new environment each call.</param>
    /// <exception cref="ArgumentException">The environment's actions are not a <see cref="BoxSpace"/> with finite bounds.</exception>
    public ContinuousPolicy Train(Func<IEnvironment<float[]>> createEnvironment)
    {
        ArgumentNullException.ThrowIfNull(createEnvironment);
        var o = Options;
        var run = new TrainingRun(o);
        int seed = run.Seed;
        var environments = new VectorEnvironment<float[]>(_ => createEnvironment(), 1, o.MaxEpisodeSteps);
        var space = environments.ActionSpace as BoxSpace
            ?? throw new ArgumentException($"{nameof(SacAgent)} needs a BoxSpace of continuous actions; '{environments.Name}' has {environments.ActionSpace}.", nameof(createEnvironment));
        if (Enumerable.Range(0, space.Size).Any(i => !float.IsFinite(space.Low[i]) || !float.IsFinite(space.High[i])))
        {
            throw new ArgumentException($"{nameof(SacAgent)} squashes actions into the action space's bounds; '{environments.Name}' has unbounded actions {space}.", nameof(createEnvironment));
        }

        var evaluation = new EnvironmentChecker<float[]>(createEnvironment(), o.MaxEpisodeSteps);
        int observationSize = environments.ObservationSize, actionSize = space.Size;
        long maxSteps = o.MaxSteps!.Value;
        double targetEntropy = o.TargetEntropy ?? -actionSize;

        TrainingRun.SeedForInitialisation(seed);
        StateDependentSettings? sde = o.StateDependentExploration ? new StateDependentSettings(o.LogStdInit, o.FullStd) : null;
        var actor = run.AddModule("actor", new SquashedGaussianActor(observationSize, o.HiddenLayers, actionSize, sde));
        var critic = run.AddModule("critic", new TwinCritic(observationSize, actionSize, o.HiddenLayers));
        var target = run.AddModule("critic_target", new TwinCritic(observationSize, actionSize, o.HiddenLayers));
        Polyak(critic, target, 1.0);
        foreach (var parameter in target.parameters())
        {
            parameter.requires_grad = false;
        }

        var temperature = o.EntropyCoefficient is null ? run.AddModule("entropy", new EntropyTemperature(1.0)) : null;
        var actorOptimizer = run.CreateOptimizer("actor", actor, o.Optimizer, o.LearningRateSchedule);
        var criticOptimizer = run.CreateOptimizer("critic", critic, o.Optimizer, o.LearningRateSchedule);
        var temperatureOptimizer = temperature is null ? null : run.CreateOptimizer("entropy", temperature, o.Optimizer, o.LearningRateSchedule);
        var buffer = new ReplayBuffer((int)Math.Min(o.BufferSize, maxSteps), observationSize, actionSize);
        var state = new AgentLoopState(unchecked((ulong)TrainingRun.DeriveSeed(seed, 1)), observationSize) { EpisodeReturns = new double[1] };
        run.AddState(environments);
        run.AddState(buffer);
        run.AddState(state);
        var exploration = sde is null ? null : new ExplorationMatrix(actor.FeatureSize, actionSize);
        if (exploration is not null)
        {
            run.AddState(exploration);
        }

        AgentLoop.RecordAgentSettings(run, o, "sac");
        state.Observations = environments.Reset(seed);
        run.Start();

        var scaled = new ScaledActor(actor, space);
        float[] Deterministic(float[] observation) => ContinuousPolicy.Clip(AgentLoop.Forward(scaled, observation, run.Device), space);
        while (!run.ShouldStop)
        {
            run.BeginStep();
            long step = run.Step;
            // gSDE draws its noise matrix at the start of each rollout (TrainFrequency steps) and every
            // StateDependentSampleFrequency steps within one, as SB3's collect_rollouts does.
            long inRollout = step % o.TrainFrequency;
            if (exploration is not null && (inRollout == 0 || (o.StateDependentSampleFrequency > 0 && inRollout % o.StateDependentSampleFrequency == 0)))
            {
                exploration.Resample(SdeStd(actor), state.Random);
            }

            float[] squashed = step < o.LearningStarts
                ? [.. Enumerable.Range(0, actionSize).Select(_ => (float)state.Random.Uniform(-1, 1))]
                : exploration is not null
                    ? ExploreStateDependent(actor, state.Observations, exploration, run.Device)
                    : Explore(actor, state.Observations, actionSize, state.Random, run.Device);
            var action = new float[actionSize];
            for (int i = 0; i < actionSize; i++)
            {
                action[i] = scaled.Centre[i] + (scaled.HalfRange[i] * squashed[i]);
            }

            var result = environments.Step([ContinuousPolicy.Clip(action, space)]);
            float[] next = result.FinalObservations[0] ?? result.Observations;
            buffer.Add(state.Observations, squashed, result.Rewards[0], next, result.Terminated[0]);
            state.EpisodeReturns[0] += result.Rewards[0];
            if (result.Terminated[0] || result.Truncated[0])
            {
                state.EndEpisode(state.EpisodeReturns[0]);
                state.EpisodeReturns[0] = 0;
            }

            state.Observations = result.Observations;
            long done = step + 1;
            if (done % o.TrainFrequency == 0 && done > o.LearningStarts)
            {
                for (int g = 0; g < o.GradientSteps; g++)
                {
                    state.LossSum += TrainStep(actor, critic, target, temperature, actorOptimizer, criticOptimizer, temperatureOptimizer, buffer, state.Random, targetEntropy, run);
                    state.LossCount++;
                    if (g % o.TargetUpdateInterval == 0)
                    {
                        Polyak(critic, target, o.Tau);
                    }
                }
            }

            run.EndStep();
            if (done % o.EvaluationFrequency == 0 || done == maxSteps)
            {
                var logs = new TrainingLogs();
                if (temperature is not null)
                {
                    logs["entropy_coefficient"] = Math.Exp(temperature.LogAlpha.item<float>());
                }

                AgentEvaluation.EndPeriod(run, o, state, evaluation, Deterministic, actor, logs, done);
            }
        }

        run.Finish();
        var kept = new SquashedGaussianActor(observationSize, o.HiddenLayers, actionSize, sde);
        kept.to(run.Device);
        using (no_grad())
        {
            foreach (var (from, to) in actor.parameters().Zip(kept.parameters()))
            {
                to.copy_(from);
            }
        }

        if (o.KeepBestPolicy && state.BestWeights.Count > 0)
        {
            state.RestoreBest(kept);
        }

        return new ContinuousPolicy(new ScaledActor(kept, space), observationSize, space, run.History, state.BestReturn, state.BestStep, state.ThresholdStep);
    }

    private static float[] Explore(SquashedGaussianActor actor, float[] observation, int actionSize, Pcg64 random, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var noise = Noise(random, 1, actionSize, device);
        var (action, _) = actor.Sample(tensor(observation, [1, observation.Length], device: device), noise);
        return action.cpu().data<float>().ToArray();
    }

    private static float[] ExploreStateDependent(SquashedGaussianActor actor, float[] observation, ExplorationMatrix exploration, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var weights = tensor(exploration.Values, [actor.FeatureSize, actor.ActionSize], device: device);
        var (action, _) = actor.SampleStateDependent(tensor(observation, [1, observation.Length], device: device), weights);
        return action.cpu().data<float>().ToArray();
    }

    private static float[] SdeStd(SquashedGaussianActor actor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return actor.SdeStd().contiguous().cpu().data<float>().ToArray();
    }

    private static Tensor Noise(Pcg64 random, int rows, int width, Device device)
    {
        var values = new float[rows * width];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextNormal();
        }

        return tensor(values, [rows, width], device: device);
    }

    private float TrainStep(
        SquashedGaussianActor actor, TwinCritic critic, TwinCritic target, EntropyTemperature? temperature,
        optim.Optimizer actorOptimizer, optim.Optimizer criticOptimizer, optim.Optimizer? temperatureOptimizer,
        ReplayBuffer buffer, Pcg64 random, double targetEntropy, TrainingRun run)
    {
        var o = Options;
        using var scope = NewDisposeScope();
        var device = run.Device;
        var (observations, actions, rewards, next, terminated) = buffer.Sample(o.BatchSize, random, device);
        int width = buffer.ActionSize;

        // With gSDE one noise matrix W = σ ⊙ ε per gradient step serves the whole batch, the current
        // and the next actions (SB3 resamples it each gradient step); σ stays in the graph, so log σ
        // learns through W as well as through the density.
        Tensor? weights = actor.Sde is null ? null : actor.SdeStd() * Noise(random, actor.FeatureSize, width, device);
        var (policyActions, logProbability) = weights is null
            ? actor.Sample(observations, Noise(random, o.BatchSize, width, device))
            : actor.SampleStateDependent(observations, weights);

        Tensor alpha;
        if (temperature is not null && temperatureOptimizer is not null)
        {
            alpha = temperature.LogAlpha.detach().exp();
            var temperatureLoss = -(temperature.LogAlpha * (logProbability + targetEntropy).detach()).mean();
            temperatureOptimizer.zero_grad();
            temperatureLoss.backward();
            temperatureOptimizer.step();
        }
        else
        {
            alpha = tensor((float)o.EntropyCoefficient!.Value, device: device);
        }

        Tensor targets;
        using (no_grad())
        {
            var (nextActions, nextLogProbability) = weights is null
                ? actor.Sample(next, Noise(random, o.BatchSize, width, device))
                : actor.SampleStateDependent(next, weights);
            var (t1, t2) = target.Values(next, nextActions);
            var soft = minimum(t1, t2) - (alpha * nextLogProbability);
            targets = rewards + ((1 - terminated) * (float)o.Gamma * soft);
        }

        var (q1, q2) = critic.Values(observations, actions);
        var criticLoss = 0.5 * (nn.functional.mse_loss(q1, targets) + nn.functional.mse_loss(q2, targets));
        criticOptimizer.zero_grad();
        criticLoss.backward();
        ClipGradients(critic, run);
        criticOptimizer.step();

        // The actor's loss needs gradients through the critics' inputs, not for their weights: freezing
        // them for this pass saves the weight gradients (about a tenth of a gradient step; the critics'
        // gradients are zeroed before their next step anyway).
        SetRequiresGrad(critic, false);
        var (p1, p2) = critic.Values(observations, policyActions);
        var actorLoss = ((alpha * logProbability) - minimum(p1, p2)).mean();
        actorOptimizer.zero_grad();
        actorLoss.backward();
        SetRequiresGrad(critic, true);
        ClipGradients(actor, run);
        actorOptimizer.step();

        float value = criticLoss.item<float>();
        run.EnsureFinite("loss", value);
        run.EnsureFinite("actor_loss", actorLoss.item<float>());
        return value;
    }

    private static void SetRequiresGrad(nn.Module module, bool value)
    {
        foreach (var parameter in module.parameters())
        {
            parameter.requires_grad = value;
        }
    }

    private static void ClipGradients(nn.Module module, TrainingRun run)
    {
        if (run.Options.GradientClipNorm is double maxNorm)
        {
            nn.utils.clip_grad_norm_(module.parameters(), maxNorm);
        }
    }

    private static void Polyak(nn.Module source, nn.Module destination, double tau)
    {
        using var noGrad = no_grad();
        foreach (var (from, to) in source.parameters().Zip(destination.parameters()))
        {
            if (tau >= 1)
            {
                to.copy_(from);
            }
            else
            {
                to.mul_(1 - tau).add_(from, alpha: tau);
            }
        }
    }
}
