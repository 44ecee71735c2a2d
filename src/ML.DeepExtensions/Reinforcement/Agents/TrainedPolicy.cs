using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>What every trained policy carries: its network, its spaces and its training record.</summary>
/// <typeparam name="TSpace">The action space's type.</typeparam>
public abstract class TrainedPolicy<TSpace>
{
    private protected TrainedPolicy(nn.Module<Tensor, Tensor> network, int observationSize, TSpace actions, TrainingHistory history, double bestReturn, long bestStep, long? thresholdStep)
    {
        Network = network;
        Network.eval();
        ObservationSize = observationSize;
        ActionSpace = actions;
        History = history;
        BestEvaluationReturn = bestReturn;
        BestEvaluationStep = bestStep;
        StepsToThreshold = thresholdStep;
    }

    /// <summary>The policy network, in eval mode.</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The length of an observation.</summary>
    public int ObservationSize { get; }

    /// <summary>The actions.</summary>
    public TSpace ActionSpace { get; }

    /// <summary>One row per evaluation: <c>step</c>, <c>eval_return</c>, <c>eval_return_std</c>, <c>eval_length</c>, <c>episode_return</c> (mean of the last 100 training episodes), <c>episodes</c>, <c>loss</c>, ... Save it with <see cref="TrainingHistory.SaveCsv"/> or <see cref="TrainingHistory.SavePlot"/>.</summary>
    public TrainingHistory History { get; }

    /// <summary>The best evaluation's mean return (the weights of this policy when <see cref="AgentOptions.KeepBestPolicy"/> is set).</summary>
    public double BestEvaluationReturn { get; }

    /// <summary>The environment step of the best evaluation.</summary>
    public long BestEvaluationStep { get; }

    /// <summary>The environment step of the first evaluation that reached <see cref="AgentOptions.RewardThreshold"/>, or null.</summary>
    public long? StepsToThreshold { get; }
}
