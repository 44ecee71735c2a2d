using System.Globalization;
using System.Reflection;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>What the agents' loops share: playing evaluation episodes, the checkpointed loop state, settings.</summary>
internal static class AgentLoop
{
    /// <summary>Plays <paramref name="episodes"/> episodes with <paramref name="act"/>, episode <c>i</c> from <c>Reset(seed + i)</c>; returns each episode's return and length.</summary>
    public static (double[] Returns, int[] Lengths) Play<TAction>(IEnvironment<TAction> environment, Func<float[], TAction> act, int episodes, int seed)
    {
        var checkedEnvironment = environment as EnvironmentChecker<TAction> ?? new EnvironmentChecker<TAction>(environment);
        var returns = new double[episodes];
        var lengths = new int[episodes];
        for (int i = 0; i < episodes; i++)
        {
            float[] observation = checkedEnvironment.Reset(checked(seed + i)).Observation;
            while (true)
            {
                StepResult step = checkedEnvironment.Step(act(observation));
                returns[i] += step.Reward;
                lengths[i]++;
                if (step.Done)
                {
                    break;
                }

                observation = step.Observation;
            }
        }

        return (returns, lengths);
    }

    /// <summary>The network's output for one observation.</summary>
    public static float[] Forward(nn.Module<Tensor, Tensor> network, float[] observation, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var input = tensor(observation, [1, observation.Length], device: device);
        return network.forward(input).cpu().data<float>().ToArray();
    }

    /// <summary>The index of the largest value, the first on ties (as ONNX's ArgMax and ML.NET's scorer).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Records the settings an agent's options declare (not the run's: those the run records itself), so a resume with other values is refused.</summary>
    public static void RecordAgentSettings(TrainingRun run, AgentOptions options, string prefix)
    {
        run.RecordSetting($"{prefix}.MaxSteps", options.MaxSteps?.ToString(CultureInfo.InvariantCulture) ?? "none");
        for (Type? type = options.GetType(); type is not null && type != typeof(TrainingOptions); type = type.BaseType)
        {
            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                object? value = property.GetValue(options);
                string text = value is System.Collections.IEnumerable list and not string
                    ? string.Join(", ", list.Cast<object>().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))
                    : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
                run.RecordSetting($"{prefix}.{property.Name}", text);
            }
        }
    }

    /// <summary>The environment's discrete action space, or a clear error.</summary>
    public static DiscreteSpace RequireDiscrete(IEnvironment<int> environment, string agent) =>
        environment.ActionSpace as DiscreteSpace
        ?? throw new ArgumentException($"{agent} needs a DiscreteSpace of actions; '{environment.Name}' has {environment.ActionSpace}.", nameof(environment));
}

/// <summary>
/// The part of an agent's loop that is not a network, an optimizer, a buffer or an environment:
/// the exploration generator, the current observations, episode statistics, the best evaluation and
/// its weights. Checkpointed with the run.
/// </summary>
internal sealed class AgentLoopState : ICheckpointState
{
    public AgentLoopState(ulong seed, int observationValues)
    {
        Random = new Pcg64(seed);
        Observations = new float[observationValues];
    }

    public Pcg64 Random { get; }

    /// <summary>The current observation of every environment copy, row-major.</summary>
    public float[] Observations { get; set; }

    public double[] EpisodeReturns { get; set; } = [];

    public List<double> RecentReturns { get; } = [];

    public long Episodes { get; set; }

    public double LossSum { get; set; }

    public long LossCount { get; set; }

    public double BestReturn { get; set; } = double.NegativeInfinity;

    public long BestStep { get; set; } = -1;

    public long? ThresholdStep { get; set; }

    /// <summary>The parameters (then buffers) of the policy at its best evaluation, in module order.</summary>
    public List<float[]> BestWeights { get; } = [];

    public string StateKey => "agent";

    public void EndEpisode(double episodeReturn)
    {
        RecentReturns.Add(episodeReturn);
        if (RecentReturns.Count > 100)
        {
            RecentReturns.RemoveAt(0);
        }

        Episodes++;
    }

    public void KeepBest(nn.Module module)
    {
        BestWeights.Clear();
        foreach (var tensor in module.parameters().Cast<Tensor>().Concat(module.buffers()))
        {
            BestWeights.Add(tensor.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray());
        }
    }

    public void RestoreBest(nn.Module module)
    {
        using var noGrad = no_grad();
        int i = 0;
        foreach (var target in module.parameters().Cast<Tensor>().Concat(module.buffers()))
        {
            using var source = tensor(BestWeights[i++], target.shape);
            target.copy_(source);
        }
    }

    public void SaveState(BinaryWriter writer)
    {
        Random.SaveState(writer);
        WriteArray(writer, Observations);
        writer.Write(EpisodeReturns.Length);
        foreach (double value in EpisodeReturns)
        {
            writer.Write(value);
        }

        writer.Write(RecentReturns.Count);
        RecentReturns.ForEach(writer.Write);
        writer.Write(Episodes);
        writer.Write(LossSum);
        writer.Write(LossCount);
        writer.Write(BestReturn);
        writer.Write(BestStep);
        writer.Write(ThresholdStep ?? -1);
        writer.Write(BestWeights.Count);
        BestWeights.ForEach(w => WriteArray(writer, w));
    }

    public void LoadState(BinaryReader reader)
    {
        Random.LoadState(reader);
        Observations = ReadArray(reader);
        EpisodeReturns = new double[reader.ReadInt32()];
        for (int i = 0; i < EpisodeReturns.Length; i++)
        {
            EpisodeReturns[i] = reader.ReadDouble();
        }

        RecentReturns.Clear();
        int recent = reader.ReadInt32();
        for (int i = 0; i < recent; i++)
        {
            RecentReturns.Add(reader.ReadDouble());
        }

        Episodes = reader.ReadInt64();
        LossSum = reader.ReadDouble();
        LossCount = reader.ReadInt64();
        BestReturn = reader.ReadDouble();
        BestStep = reader.ReadInt64();
        long threshold = reader.ReadInt64();
        ThresholdStep = threshold < 0 ? null : threshold;
        BestWeights.Clear();
        int weights = reader.ReadInt32();
        for (int i = 0; i < weights; i++)
        {
            BestWeights.Add(ReadArray(reader));
        }
    }

    private static void WriteArray(BinaryWriter writer, float[] values)
    {
        writer.Write(values.Length);
        foreach (float value in values)
        {
            writer.Write(value);
        }
    }

    private static float[] ReadArray(BinaryReader reader)
    {
        var values = new float[reader.ReadInt32()];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }
}

/// <summary>The evaluation that ends each period of an agent's run.</summary>
internal static class AgentEvaluation
{
    /// <summary>
    /// Plays the evaluation episodes, logs them with the period's training statistics, keeps the best
    /// policy's weights, stops at the reward threshold, and ends the run's period (its history row).
    /// </summary>
    public static void EndPeriod<TAction>(
        TrainingRun run, AgentOptions options, AgentLoopState state, IEnvironment<TAction> evaluation,
        Func<float[], TAction> act, nn.Module policy, TrainingLogs logs, long environmentSteps)
    {
        var (returns, lengths) = AgentLoop.Play(evaluation, act, options.EvaluationEpisodes, options.EvaluationSeed);
        double mean = returns.Average();
        logs["step"] = environmentSteps;
        logs["eval_return"] = mean;
        logs["eval_return_std"] = Math.Sqrt(returns.Select(r => (r - mean) * (r - mean)).Average());
        logs["eval_length"] = lengths.Average();
        logs["episodes"] = state.Episodes;
        if (state.RecentReturns.Count > 0)
        {
            logs["episode_return"] = state.RecentReturns.Average();
        }

        if (state.LossCount > 0)
        {
            logs[TrainingLogs.Loss] = state.LossSum / state.LossCount;
        }

        state.LossSum = 0;
        state.LossCount = 0;
        if (mean > state.BestReturn)
        {
            state.BestReturn = mean;
            state.BestStep = environmentSteps;
            state.KeepBest(policy);
        }

        if (options.RewardThreshold is { } threshold && mean >= threshold && state.ThresholdStep is null)
        {
            state.ThresholdStep = environmentSteps;
            run.StopTraining = true;
            run.History.StoppedEarly = true;
        }

        run.EndEpoch(logs);
    }
}
