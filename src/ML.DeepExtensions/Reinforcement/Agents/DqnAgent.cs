using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// Deep Q-learning for discrete actions, on the shared <see cref="TrainingRun"/>: Stable-Baselines3's
/// DQN loop (random actions until <see cref="DqnOptions.LearningStarts"/>, then ε-greedy; a gradient
/// phase every <see cref="DqnOptions.TrainFrequency"/> steps; a hard target update every
/// <see cref="DqnOptions.TargetUpdateInterval"/> steps; Huber loss; gradient clipping), with time-limit
/// truncation bootstrapped from the final observation, not treated as terminal.
/// </summary>
/// <remarks>
/// One run step is one environment step. Every <see cref="AgentOptions.EvaluationFrequency"/> steps
/// the greedy policy plays <see cref="AgentOptions.EvaluationEpisodes"/> episodes on its own,
/// separately seeded environment, and the period ends (a row of the history, callbacks, progress,
/// epoch checkpoints). Checkpoints hold the online and target networks, the optimizer, the replay
/// buffer, the environment, the exploration generator and the best weights: a resumed run equals an
/// uninterrupted one bit for bit.
/// <code>
/// var policy = new DqnAgent(new DqnOptions(DqnPreset.CartPole) { Seed = 1 }).Train(ClassicControl.CartPole);
/// var model = policy.CreateModel();   // an ML.NET ITransformer
/// </code>
/// </remarks>
public sealed class DqnAgent
{
    /// <summary>Creates the agent; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is invalid; the message names it.</exception>
    public DqnAgent(DqnOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>Creates the agent with SB3's defaults, <paramref name="maxSteps"/> environment steps and a seed.</summary>
    public DqnAgent(long maxSteps = 100_000, int? seed = null)
        : this(new DqnOptions { MaxSteps = maxSteps, Seed = seed })
    {
    }

    /// <summary>The options.</summary>
    public DqnOptions Options { get; }

    /// <summary>Trains on environments made by <paramref name="createEnvironment"/> (one to train on, one to evaluate on) and returns the greedy policy.</summary>
    /// <param name="createEnvironment">Makes a new environment each call, e.g. <c>ClassicControl.CartPole</c>.</param>
    /// <exception cref="ArgumentException">The environment's actions are not a <see cref="DiscreteSpace"/>.</exception>
    /// <exception cref="EnvironmentException">The environment broke its contract (NaN, wrong length, an episode that never ends).</exception>
    public DiscretePolicy Train(Func<IEnvironment<int>> createEnvironment)
    {
        ArgumentNullException.ThrowIfNull(createEnvironment);
        var o = Options;
        var run = new TrainingRun(o);
        int seed = run.Seed;
        var environments = new VectorEnvironment<int>(_ => createEnvironment(), 1, o.MaxEpisodeSteps);
        var actions = AgentLoop.RequireDiscrete(environments.Environments[0], nameof(DqnAgent));
        var evaluation = new EnvironmentChecker<int>(createEnvironment(), o.MaxEpisodeSteps);
        int observationSize = environments.ObservationSize;
        long maxSteps = o.MaxSteps!.Value;

        TrainingRun.SeedForInitialisation(seed);
        var q = run.AddModule("q", AgentNetworks.Mlp(observationSize, o.HiddenLayers, actions.Count, o.Dueling));
        var target = run.AddModule("target", AgentNetworks.Mlp(observationSize, o.HiddenLayers, actions.Count, o.Dueling));
        CopyInto(q, target);
        foreach (var parameter in target.parameters())
        {
            parameter.requires_grad = false;
        }

        var optimizer = run.CreateOptimizer("q", q, o.Optimizer, o.LearningRateSchedule);
        var buffer = new ReplayBuffer((int)Math.Min(o.BufferSize, maxSteps), observationSize);
        var state = new AgentLoopState(unchecked((ulong)TrainingRun.DeriveSeed(seed, 1)), observationSize) { EpisodeReturns = new double[1] };
        run.AddState(environments);
        run.AddState(buffer);
        run.AddState(state);
        AgentLoop.RecordAgentSettings(run, o, "dqn");
        state.Observations = environments.Reset(seed);
        run.Start();

        int Greedy(float[] observation) => AgentLoop.ArgMax(AgentLoop.Forward(q, observation, run.Device));
        while (!run.ShouldStop)
        {
            run.BeginStep();
            long step = run.Step;
            int action = step < o.LearningStarts || state.Random.NextDouble() < o.Epsilon(step, maxSteps)
                ? (int)state.Random.NextInt64(actions.Count)
                : Greedy(state.Observations);
            var result = environments.Step([actions.Start + action]);
            float[] next = result.FinalObservations[0] ?? result.Observations;
            buffer.Add(state.Observations, [action], result.Rewards[0], next, result.Terminated[0]);
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
                int gradientSteps = o.GradientSteps == -1 ? o.TrainFrequency : o.GradientSteps;
                for (int g = 0; g < gradientSteps; g++)
                {
                    state.LossSum += TrainStep(q, target, optimizer, buffer, state.Random, run);
                    state.LossCount++;
                }
            }

            if (done % o.TargetUpdateInterval == 0)
            {
                CopyInto(q, target);
            }

            run.EndStep();
            if (done % o.EvaluationFrequency == 0 || done == maxSteps)
            {
                var logs = new TrainingLogs { ["epsilon"] = o.Epsilon(done, maxSteps) };
                AgentEvaluation.EndPeriod(run, o, state, evaluation, a => actions.Start + Greedy(a), q, logs, done);
            }
        }

        run.Finish();
        var policyNetwork = AgentNetworks.Mlp(observationSize, o.HiddenLayers, actions.Count, o.Dueling);
        policyNetwork.to(run.Device);
        CopyInto(q, policyNetwork);
        if (o.KeepBestPolicy && state.BestWeights.Count > 0)
        {
            state.RestoreBest(policyNetwork);
        }

        return new DiscretePolicy(policyNetwork, observationSize, actions, run.History, state.BestReturn, state.BestStep, state.ThresholdStep);
    }

    private float TrainStep(Sequential q, Sequential target, optim.Optimizer optimizer, ReplayBuffer buffer, Pcg64 random, TrainingRun run)
    {
        using var scope = NewDisposeScope();
        var (observations, actions, rewards, next, terminated) = buffer.Sample(Options.BatchSize, random, run.Device);
        Tensor targets;
        using (no_grad())
        {
            var nextValues = target.forward(next);
            var bootstrap = Options.DoubleQ
                ? nextValues.gather(1, q.forward(next).argmax(1, keepdim: true)).squeeze(1)
                : nextValues.max(1).values;
            targets = rewards + ((1 - terminated) * (float)Options.Gamma * bootstrap);
        }

        var current = q.forward(observations).gather(1, actions.to_type(ScalarType.Int64)).squeeze(1);
        var loss = nn.functional.smooth_l1_loss(current, targets);
        optimizer.zero_grad();
        loss.backward();
        if (run.Options.GradientClipNorm is double maxNorm)
        {
            nn.utils.clip_grad_norm_(q.parameters(), maxNorm);
        }

        optimizer.step();
        float value = loss.item<float>();
        run.EnsureFinite("loss", value);
        return value;
    }

    private static void CopyInto(nn.Module source, nn.Module destination)
    {
        using var noGrad = no_grad();
        foreach (var (from, to) in source.parameters().Zip(destination.parameters()))
        {
            to.copy_(from);
        }
    }
}
