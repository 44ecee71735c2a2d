using Microsoft.ML;
using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>A policy's value estimated from logs alone (<see cref="OfflineLearner.EvaluatePolicy(IDataView, DiscretePolicy)"/>, <see cref="OfflineLearner.EvaluatePolicy(IDataView, ContinuousPolicy)"/>).</summary>
/// <param name="Value">The estimated expected discounted return (γ of the options) from the logged episodes' first states.</param>
/// <param name="InitialStates">How many episode starts the estimate averages over.</param>
/// <param name="History">The loss of the fitted Q function during training.</param>
public sealed record OffPolicyEstimate(double Value, int InitialStates, TrainingHistory History);

/// <summary>
/// Offline reinforcement learning from logged transitions in any <see cref="IDataView"/> (a CSV, a
/// database query, a Parquet file): one row per transition with the observation, the action, the
/// reward, the next observation and the terminated and truncated flags (columns named in
/// <see cref="OfflineOptions"/>). Behaviour cloning and CQL for discrete actions, TD3+BC for continuous actions, and fitted Q
/// evaluation of either kind of policy:
/// <list type="bullet">
/// <item><see cref="CloneBehavior"/>: behaviour cloning, a classifier of the logged actions.</item>
/// <item><see cref="TrainConservativeQ"/>: discrete conservative Q-learning (Kumar et al. 2020): Q-learning
/// with a target network plus α·(logsumexp Q(s, ·) − Q(s, a)), which keeps Q low on actions the logs never took.</item>
/// <item><see cref="EvaluatePolicy(IDataView, DiscretePolicy)"/> and <see cref="EvaluatePolicy(IDataView, ContinuousPolicy)"/>:
/// fitted Q evaluation (Le et al. 2019), an off-policy estimate of a policy's discounted return from the logs alone.</item>
/// <item><see cref="TrainTd3PlusBc"/>: TD3+BC (Fujimoto and Gu 2021) for continuous actions: TD3's twin critics,
/// target policy smoothing and delayed actor updates, with an actor loss of −λ·Q + (a − a_logged)².</item>
/// </list>
/// Each trains on the shared <see cref="TrainingRun"/> (one run step per gradient step; checkpoints and
/// exact resume as everywhere). Rows must be in episode order: a row after a terminated or truncated
/// one starts a new episode.
/// </summary>
public sealed partial class OfflineLearner
{
    /// <summary>Creates the learner; the options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is invalid; the message names it.</exception>
    public OfflineLearner(OfflineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public OfflineOptions Options { get; }

    /// <summary>Behaviour cloning: learns to predict the logged action from the observation (cross-entropy); the policy takes the most probable action.</summary>
    /// <exception cref="ArgumentException">A column is missing or malformed; the message names it (and the row).</exception>
    public DiscretePolicy CloneBehavior(IDataView logs)
    {
        var data = LoggedTransitions.Read(logs, Options);
        var (run, state) = Begin(data, "bc", out var network, out var optimizer, out _);
        while (!run.ShouldStop)
        {
            run.BeginStep();
            using (var scope = NewDisposeScope())
            {
                var (x, a, _, _, _) = Batch(data, state.Random, run.Device);
                var loss = nn.functional.cross_entropy(network.forward(x), a);
                Step(run, optimizer, network, loss, state);
            }

            End(run, state);
        }

        run.Finish();
        return new DiscretePolicy(network, data.ObservationSize, new DiscreteSpace(data.ActionCount), run.History, double.NaN, -1, null);
    }

    /// <summary>Discrete conservative Q-learning; the policy is greedy on the learnt Q values.</summary>
    /// <exception cref="ArgumentException">A column is missing or malformed; the message names it (and the row).</exception>
    public DiscretePolicy TrainConservativeQ(IDataView logs)
    {
        var data = LoggedTransitions.Read(logs, Options);
        var (run, state) = Begin(data, "cql", out var q, out var optimizer, out var target);
        while (!run.ShouldStop)
        {
            run.BeginStep();
            using (var scope = NewDisposeScope())
            {
                var (x, a, r, n, d) = Batch(data, state.Random, run.Device);
                Tensor y;
                using (no_grad())
                {
                    y = r + ((1 - d) * (float)Options.Gamma * target.forward(n).max(1).values);
                }

                var values = q.forward(x);
                var taken = values.gather(1, a.unsqueeze(1)).squeeze(1);
                var conservative = (values.logsumexp(1) - taken).mean();
                var loss = nn.functional.smooth_l1_loss(taken, y) + ((float)Options.ConservativeWeight * conservative);
                Step(run, optimizer, q, loss, state);
            }

            UpdateTarget(run, q, target);
            End(run, state);
        }

        run.Finish();
        return new DiscretePolicy(q, data.ObservationSize, new DiscreteSpace(data.ActionCount), run.History, double.NaN, -1, null);
    }

    /// <summary>
    /// Fitted Q evaluation of <paramref name="policy"/>: fits Q^π to <c>r + γ(1 − terminated) Q^π(s′, π(s′))</c>
    /// over the logs, then averages Q^π(s₀, π(s₀)) over the logged episodes' first observations.
    /// </summary>
    /// <exception cref="ArgumentException">A column is missing or malformed, or the policy does not fit the logs.</exception>
    public OffPolicyEstimate EvaluatePolicy(IDataView logs, DiscretePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var data = LoggedTransitions.Read(logs, Options);
        if (policy.ObservationSize != data.ObservationSize || policy.ActionSpace.Count != data.ActionCount)
        {
            throw new ArgumentException(
                $"The policy takes {policy.ObservationSize} observation values and has {policy.ActionSpace.Count} actions; the logs have {data.ObservationSize} and {data.ActionCount}.",
                nameof(policy));
        }

        var (run, state) = Begin(data, "fqe", out var q, out var optimizer, out var target);
        var evaluated = policy.Network;
        while (!run.ShouldStop)
        {
            run.BeginStep();
            using (var scope = NewDisposeScope())
            {
                var (x, a, r, n, d) = Batch(data, state.Random, run.Device);
                Tensor y;
                using (no_grad())
                {
                    var next = evaluated.forward(n.to(evaluated.parameters().First().device)).argmax(1, keepdim: true).to(run.Device);
                    y = r + ((1 - d) * (float)Options.Gamma * target.forward(n).gather(1, next).squeeze(1));
                }

                var loss = nn.functional.mse_loss(q.forward(x).gather(1, a.unsqueeze(1)).squeeze(1), y);
                Step(run, optimizer, q, loss, state);
            }

            UpdateTarget(run, q, target);
            End(run, state);
        }

        run.Finish();
        var starts = Enumerable.Range(0, data.Count).Where(i => data.EpisodeStarts[i]).ToArray();
        double total = 0;
        foreach (int i in starts)
        {
            float[] observation = data.Observations.AsSpan(i * data.ObservationSize, data.ObservationSize).ToArray();
            total += AgentLoop.Forward(q, observation, run.Device)[policy.Act(observation) - policy.ActionSpace.Start];
        }

        return new OffPolicyEstimate(total / starts.Length, starts.Length, run.History);
    }

    private (TrainingRun Run, AgentLoopState State) Begin(LoggedTransitions data, string method, out Sequential network, out optim.Optimizer optimizer, out Sequential target)
    {
        var run = new TrainingRun(Options);
        TrainingRun.SeedForInitialisation(run.Seed);
        network = run.AddModule("q", AgentNetworks.Mlp(data.ObservationSize, Options.HiddenLayers, data.ActionCount));
        target = run.AddModule("target", AgentNetworks.Mlp(data.ObservationSize, Options.HiddenLayers, data.ActionCount));
        UpdateTarget(network, target);
        optimizer = run.CreateOptimizer("q", network, Options.Optimizer, Options.LearningRateSchedule);
        var state = new AgentLoopState(unchecked((ulong)TrainingRun.DeriveSeed(run.Seed, 1)), 0);
        run.AddState(state);
        RecordSettings(run, data, method);
        run.Start();
        return (run, state);
    }

    private void RecordSettings(TrainingRun run, LoggedTransitions data, string method)
    {
        run.RecordSetting("offline.method", method);
        run.RecordSetting("offline.rows", data.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in new (string, object)[]
        {
            ("BatchSize", Options.BatchSize), ("Gamma", Options.Gamma), ("TargetUpdateInterval", Options.TargetUpdateInterval),
            ("ConservativeWeight", Options.ConservativeWeight), ("HiddenLayers", string.Join(", ", Options.HiddenLayers)), ("MaxSteps", Options.MaxSteps!.Value),
        })
        {
            run.RecordSetting($"offline.{name}", Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
        }
    }

    private (Tensor Observations, Tensor Actions, Tensor Rewards, Tensor Next, Tensor Terminated) Batch(LoggedTransitions data, Pcg64 random, Device device)
    {
        int b = Options.BatchSize, size = data.ObservationSize;
        var observations = new float[b * size];
        var next = new float[b * size];
        var actions = new long[b];
        var rewards = new float[b];
        var terminated = new float[b];
        for (int i = 0; i < b; i++)
        {
            int j = (int)random.NextInt64(data.Count);
            Array.Copy(data.Observations, j * size, observations, i * size, size);
            Array.Copy(data.NextObservations, j * size, next, i * size, size);
            actions[i] = data.Actions[j];
            rewards[i] = data.Rewards[j];
            terminated[i] = data.Terminated[j];
        }

        return (tensor(observations, [b, size], device: device), tensor(actions, [b], device: device), tensor(rewards, [b], device: device),
            tensor(next, [b, size], device: device), tensor(terminated, [b], device: device));
    }

    private static void Step(TrainingRun run, optim.Optimizer optimizer, nn.Module network, Tensor loss, AgentLoopState state)
    {
        optimizer.zero_grad();
        loss.backward();
        if (run.Options.GradientClipNorm is double maxNorm)
        {
            nn.utils.clip_grad_norm_(network.parameters(), maxNorm);
        }

        optimizer.step();
        float value = loss.item<float>();
        run.EnsureFinite("loss", value);
        state.LossSum += value;
        state.LossCount++;
    }

    private void UpdateTarget(TrainingRun run, Sequential q, Sequential target)
    {
        if ((run.Step + 1) % Options.TargetUpdateInterval == 0)
        {
            UpdateTarget(q, target);
        }
    }

    private static void UpdateTarget(Sequential q, Sequential target)
    {
        using var noGrad = no_grad();
        foreach (var (from, to) in q.parameters().Zip(target.parameters()))
        {
            to.copy_(from);
        }
    }

    /// <summary>Ends a gradient step; every twentieth of the budget ends a period with the mean loss.</summary>
    private void End(TrainingRun run, AgentLoopState state)
    {
        run.EndStep();
        long period = Math.Max(1, Options.MaxSteps!.Value / 20);
        if (run.Step % period == 0 || run.Step == Options.MaxSteps)
        {
            var logs = new TrainingLogs { ["step"] = run.Step };
            if (state.LossCount > 0)
            {
                logs[TrainingLogs.Loss] = state.LossSum / state.LossCount;
            }

            state.LossSum = 0;
            state.LossCount = 0;
            run.EndEpoch(logs);
        }
    }
}
