using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>What distinguishes the on-policy agents (PPO, A2C) inside their shared loop.</summary>
internal sealed record OnPolicySettings(
    string Name, int EnvironmentCount, int RolloutSteps, int BatchSize, int OptimizationEpochs, bool Shuffle, double Gamma, double GaeLambda,
    double? ClipRange, bool LinearDecay, double EntropyCoefficient, double ValueCoefficient, bool NormalizeAdvantages, bool NormalizeObservations, double LogStdInit);

/// <summary>
/// SB3's on-policy loop on the shared run: rollouts of a vector environment, GAE, then minibatch
/// epochs over the rollout with the clipped surrogate (PPO) or the plain policy gradient (A2C, one
/// full-batch step), the value loss and the entropy bonus.
/// </summary>
internal static class OnPolicyLoop
{
    /// <summary>Trains a categorical policy; returns the greedy policy.</summary>
    public static DiscretePolicy TrainDiscrete(AgentOptions o, OnPolicySettings s, Func<IEnvironment<int>> createEnvironment, string agent)
    {
        ArgumentNullException.ThrowIfNull(createEnvironment);
        var probe = createEnvironment();
        var actions = AgentLoop.RequireDiscrete(probe, agent);
        bool first = true;
        var result = Train(o, s,
            () => first ? Take(ref first, probe) : createEnvironment(), actions.Count, continuous: false,
            (raw, _) => actions.Start + (int)raw[0], output => actions.Start + AgentLoop.ArgMax(output), 1);
        return new DiscretePolicy(result.Network.DeterministicPolicy(), probe.ObservationSpace.Size, actions, result.History, result.Best, result.BestStep, result.Threshold);
    }

    /// <summary>Trains a diagonal Gaussian policy; returns the mean-action policy.</summary>
    public static ContinuousPolicy TrainContinuous(AgentOptions o, OnPolicySettings s, Func<IEnvironment<float[]>> createEnvironment, string agent)
    {
        ArgumentNullException.ThrowIfNull(createEnvironment);
        var probe = createEnvironment();
        var space = probe.ActionSpace as BoxSpace
            ?? throw new ArgumentException($"{agent} needs a BoxSpace of continuous actions; '{probe.Name}' has {probe.ActionSpace}.", nameof(createEnvironment));
        bool first = true;
        var result = Train(o, s,
            () => first ? Take(ref first, probe) : createEnvironment(), space.Size, continuous: true,
            (raw, _) => ContinuousPolicy.Clip(raw, space), output => ContinuousPolicy.Clip(output, space), space.Size);
        return new ContinuousPolicy(result.Network.DeterministicPolicy(), probe.ObservationSpace.Size, space, result.History, result.Best, result.BestStep, result.Threshold);
    }

    private static IEnvironment<T> Take<T>(ref bool first, IEnvironment<T> environment)
    {
        first = false;
        return environment;
    }

    public static (ActorCritic Network, TrainingHistory History, double Best, long BestStep, long? Threshold) Train<TAction>(
        AgentOptions o, OnPolicySettings s, Func<IEnvironment<TAction>> createEnvironment, int outputs, bool continuous, Func<float[], int, TAction> toAction, Func<float[], TAction> deterministic, int actionSize)
    {
        var run = new TrainingRun(o);
        int seed = run.Seed;
        int copies = s.EnvironmentCount;
        var environments = new VectorEnvironment<TAction>(_ => createEnvironment(), copies, o.MaxEpisodeSteps);
        var evaluation = new EnvironmentChecker<TAction>(createEnvironment(), o.MaxEpisodeSteps);
        int observationSize = environments.ObservationSize;
        long maxSteps = o.MaxSteps!.Value;

        TrainingRun.SeedForInitialisation(seed);
        var network = run.AddModule("actor_critic", new ActorCritic(observationSize, outputs, o.HiddenLayers, s.NormalizeObservations, continuous, s.LogStdInit));
        var optimizer = run.CreateOptimizer("actor_critic", network, o.Optimizer, o.LearningRateSchedule);
        var rollout = new RolloutBuffer(s.RolloutSteps, copies, observationSize, actionSize);
        var state = new AgentLoopState(unchecked((ulong)TrainingRun.DeriveSeed(seed, 1)), copies * observationSize) { EpisodeReturns = new double[copies] };
        var dones = new float[copies];
        run.AddState(environments);
        run.AddState(rollout);
        run.AddState(state);
        run.AddState(new FloatArrayState("episode_dones", dones));
        if (network.Normalizer is { } normalizer)
        {
            run.AddState(normalizer);
        }

        AgentLoop.RecordAgentSettings(run, o, s.Name);
        state.Observations = environments.Reset(seed);
        run.Start();
        if (run.Step == 0)
        {
            network.Normalizer?.Update(state.Observations);
        }

        TAction Deterministic(float[] observation) => deterministic(AgentLoop.Forward(network, observation, run.Device));
        double baseRate = o.Optimizer.LearningRate;
        while (!run.StopTraining && run.Epoch < o.Epochs && run.Step * copies < maxSteps)
        {
            run.BeginStep();
            float[] observations = state.Observations;
            var (normalized, raw, logProbabilities, values) = Sample(network, observations, copies, observationSize, continuous, state.Random, run.Device);
            var envActions = new TAction[copies];
            for (int c = 0; c < copies; c++)
            {
                envActions[c] = toAction(raw[c], c);
            }

            var result = environments.Step(envActions);
            network.Normalizer?.Update(result.Observations);
            int p = rollout.Position;
            Array.Copy(normalized, 0, rollout.Observations, p * copies * observationSize, copies * observationSize);
            for (int c = 0; c < copies; c++)
            {
                int i = (p * copies) + c;
                Array.Copy(raw[c], 0, rollout.Actions, i * actionSize, actionSize);
                rollout.LogProbabilities[i] = logProbabilities[c];
                rollout.Values[i] = values[c];
                double reward = result.Rewards[c];
                if (result.Truncated[c] && !result.Terminated[c] && result.FinalObservations[c] is { } final)
                {
                    reward += s.Gamma * AgentValue(network, final, run.Device);
                }

                rollout.Rewards[i] = (float)reward;
                rollout.EpisodeStarts[i] = dones[c];
                state.EpisodeReturns[c] += result.Rewards[c];
                dones[c] = result.Terminated[c] || result.Truncated[c] ? 1f : 0f;
                if (dones[c] == 1f)
                {
                    state.EndEpisode(state.EpisodeReturns[c]);
                    state.EpisodeReturns[c] = 0;
                }
            }

            state.Observations = result.Observations;
            rollout.Position++;
            if (rollout.Full)
            {
                var (_, _, _, lastValues) = Sample(network, state.Observations, copies, observationSize, continuous, random: null, run.Device);
                rollout.ComputeAdvantages(lastValues, dones, s.Gamma, s.GaeLambda);
                double remaining = 1.0 - ((double)(run.Step + 1) * copies / maxSteps);
                double? clip = s.ClipRange is double range ? (s.LinearDecay ? range * remaining : range) : null;
                if (s.LinearDecay)
                {
                    foreach (var group in optimizer.ParamGroups)
                    {
                        group.LearningRate = baseRate * remaining;
                    }
                }

                Update(s, network, optimizer, rollout, clip, continuous, state, run);
                rollout.Position = 0;
            }

            run.EndStep();
            long done = run.Step * copies, before = done - copies;
            if (done / o.EvaluationFrequency > before / o.EvaluationFrequency || done >= maxSteps)
            {
                var logs = new TrainingLogs();
                AgentEvaluation.EndPeriod(run, o, state, evaluation, Deterministic, network, logs, done);
            }
        }

        run.Finish();
        var kept = new ActorCritic(observationSize, outputs, o.HiddenLayers, s.NormalizeObservations, continuous, s.LogStdInit);
        kept.to(run.Device);
        using (no_grad())
        {
            foreach (var (from, to) in network.parameters().Concat(network.buffers()).Zip(kept.parameters().Concat(kept.buffers())))
            {
                to.copy_(from);
            }
        }

        if (o.KeepBestPolicy && state.BestWeights.Count > 0)
        {
            state.RestoreBest(kept);
        }

        kept.eval();
        return (kept, run.History, state.BestReturn, state.BestStep, state.ThresholdStep);
    }

    /// <summary>Samples an action per copy (none when <paramref name="random"/> is null) with its log-probability, and the state values.</summary>
    private static (float[] Normalized, float[][] Raw, float[] LogProbabilities, float[] Values) Sample(
        ActorCritic network, float[] observations, int copies, int observationSize, bool continuous, Pcg64? random, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = network.Normalize(tensor(observations, [copies, observationSize], device: device));
        float[] values = network.Value(x).cpu().data<float>().ToArray();
        float[] normalized = x.cpu().data<float>().ToArray();
        if (random is null)
        {
            return (normalized, [], [], values);
        }

        var output = network.PolicyOutput(x);
        int width = (int)output.shape[1];
        float[] outputs = output.cpu().data<float>().ToArray();
        var raw = new float[copies][];
        var logProbabilities = new float[copies];
        if (!continuous)
        {
            for (int c = 0; c < copies; c++)
            {
                var logits = outputs.AsSpan(c * width, width);
                float max = float.NegativeInfinity;
                foreach (float l in logits)
                {
                    max = Math.Max(max, l);
                }

                double sum = 0;
                foreach (float l in logits)
                {
                    sum += Math.Exp(l - max);
                }

                double u = random.NextDouble() * sum, cumulative = 0;
                int action = width - 1;
                for (int a = 0; a < width; a++)
                {
                    cumulative += Math.Exp(logits[a] - max);
                    if (u < cumulative)
                    {
                        action = a;
                        break;
                    }
                }

                raw[c] = [action];
                logProbabilities[c] = (float)(logits[action] - max - Math.Log(sum));
            }

            return (normalized, raw, logProbabilities, values);
        }

        float[] logStd = network.LogStd!.detach().cpu().data<float>().ToArray();
        for (int c = 0; c < copies; c++)
        {
            raw[c] = new float[width];
            double logProbability = 0;
            for (int d = 0; d < width; d++)
            {
                double noise = random.NextNormal();
                raw[c][d] = (float)(outputs[(c * width) + d] + (Math.Exp(logStd[d]) * noise));
                logProbability += (-0.5 * noise * noise) - logStd[d] - (0.5 * Math.Log(2 * Math.PI));
            }

            logProbabilities[c] = (float)logProbability;
        }

        return (normalized, raw, logProbabilities, values);
    }

    private static float AgentValue(ActorCritic network, float[] observation, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return network.Value(network.Normalize(tensor(observation, [1, observation.Length], device: device))).cpu().item<float>();
    }

    private static void Update(OnPolicySettings s, ActorCritic network, optim.Optimizer optimizer, RolloutBuffer rollout, double? clip, bool continuous, AgentLoopState state, TrainingRun run)
    {
        int total = rollout.Steps * rollout.Copies, size = rollout.ObservationSize, actionSize = rollout.ActionSize;
        var order = new int[total];
        for (int epoch = 0; epoch < s.OptimizationEpochs; epoch++)
        {
            for (int i = 0; i < total; i++)
            {
                order[i] = i;
            }

            for (int i = total - 1; i > 0 && s.Shuffle; i--)
            {
                int j = (int)state.Random.NextInt64(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }

            for (int start = 0; start < total; start += s.BatchSize)
            {
                int count = Math.Min(s.BatchSize, total - start);
                var observations = new float[count * size];
                var actions = new float[count * actionSize];
                var oldLogProbabilities = new float[count];
                var advantages = new float[count];
                var returns = new float[count];
                for (int k = 0; k < count; k++)
                {
                    int i = order[start + k];
                    Array.Copy(rollout.Observations, i * size, observations, k * size, size);
                    Array.Copy(rollout.Actions, i * actionSize, actions, k * actionSize, actionSize);
                    oldLogProbabilities[k] = rollout.LogProbabilities[i];
                    advantages[k] = rollout.Advantages[i];
                    returns[k] = rollout.Returns[i];
                }

                using var scope = NewDisposeScope();
                var device = run.Device;
                var x = tensor(observations, [count, size], device: device);
                var a = continuous ? tensor(actions, [count, actionSize], device: device) : tensor(actions, [count], device: device);
                var advantage = tensor(advantages, [count], device: device);
                if (s.NormalizeAdvantages && count > 1)
                {
                    advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8);
                }

                var (logProbability, entropy) = network.Evaluate(x, a);
                Tensor policyLoss;
                if (clip is double range)
                {
                    var ratio = (logProbability - tensor(oldLogProbabilities, [count], device: device)).exp();
                    policyLoss = -min(advantage * ratio, advantage * ratio.clamp(1 - range, 1 + range)).mean();
                }
                else
                {
                    policyLoss = -(advantage * logProbability).mean();
                }

                var valueLoss = nn.functional.mse_loss(network.Value(x), tensor(returns, [count], device: device));
                var loss = policyLoss + (s.ValueCoefficient * valueLoss) - (s.EntropyCoefficient * entropy.mean());
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
        }
    }
}

/// <summary>A float array that checkpoints with the run.</summary>
internal sealed class FloatArrayState(string key, float[] values) : ICheckpointState
{
    public string StateKey => key;

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(values.Length);
        foreach (float value in values)
        {
            writer.Write(value);
        }
    }

    public void LoadState(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length != values.Length)
        {
            throw new InvalidDataException($"The saved '{key}' has {length} values; this run's has {values.Length}.");
        }

        for (int i = 0; i < length; i++)
        {
            values[i] = reader.ReadSingle();
        }
    }
}
