using Microsoft.ML;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <content>Fitted Q evaluation of a policy over continuous actions.</content>
public sealed partial class OfflineLearner
{
    /// <summary>
    /// Fitted Q evaluation (Le et al. 2019) of a policy over continuous actions (TD3+BC's, SAC's, or
    /// any <see cref="ContinuousPolicy"/>): fits Q^π(s, a), an MLP over the observation (normalised
    /// with the logs' mean and standard deviation) and the action (scaled to [−1, 1] by the policy's
    /// action space), to <c>r + γ(1 − terminated) Q′(s′, π(s′))</c> with a target network copied every
    /// <see cref="OfflineOptions.TargetUpdateInterval"/> steps; then averages Q^π(s₀, π(s₀)) over the
    /// logged episodes' first observations.
    /// </summary>
    /// <remarks>
    /// One run step is one gradient step; checkpoints hold the Q network, its target, the optimizer
    /// and the sampling generator. The estimate is of the discounted return with
    /// <see cref="OfflineOptions.Gamma"/>; it can only be as good as the logs' coverage of the
    /// actions π takes. Choose <c>TargetUpdateInterval × MaxSteps</c> for several horizons of 1/(1 − γ).
    /// </remarks>
    /// <param name="logs">The logged transitions; the action column is a vector of Single as wide as the policy's action space, within its bounds.</param>
    /// <param name="policy">The policy to evaluate; its action space must have finite bounds.</param>
    /// <exception cref="ArgumentException">A column is missing or malformed, an action lies outside the policy's action space, or the policy does not fit the logs; the message names what and where.</exception>
    public OffPolicyEstimate EvaluatePolicy(IDataView logs, ContinuousPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var space = policy.ActionSpace;
        if (Enumerable.Range(0, space.Size).Any(i => !float.IsFinite(space.Low[i]) || !float.IsFinite(space.High[i])))
        {
            throw new ArgumentException($"Fitted Q evaluation scales actions by the policy's action space; {space} is unbounded.", nameof(policy));
        }

        var o = Options;
        var data = LoggedTransitions.Read(logs, o, space);
        if (policy.ObservationSize != data.ObservationSize)
        {
            throw new ArgumentException($"The policy takes {policy.ObservationSize} observation values; the logs' '{o.ObservationColumnName}' column has {data.ObservationSize}.", nameof(policy));
        }

        int n = data.ObservationSize, d = space.Size;
        float[] half = [.. Enumerable.Range(0, d).Select(i => (space.High[i] - space.Low[i]) / 2)];
        float[] centre = [.. Enumerable.Range(0, d).Select(i => (space.High[i] + space.Low[i]) / 2)];
        var unitActions = new float[data.ContinuousActions.Length];
        for (int i = 0; i < unitActions.Length; i++)
        {
            int j = i % d;
            unitActions[i] = half[j] > 0 ? (data.ContinuousActions[i] - centre[j]) / half[j] : 0;
        }

        var run = new TrainingRun(o);
        TrainingRun.SeedForInitialisation(run.Seed);
        var normalizer = new ObservationNormalizer(n);
        normalizer.Update(data.Observations);
        normalizer.to(run.Device);
        var q = run.AddModule("q", AgentNetworks.Mlp(n + d, o.HiddenLayers, 1));
        var target = run.AddModule("target", AgentNetworks.Mlp(n + d, o.HiddenLayers, 1));
        UpdateTarget(q, target);
        foreach (var parameter in target.parameters())
        {
            parameter.requires_grad = false;
        }

        var optimizer = run.CreateOptimizer("q", q, o.Optimizer, o.LearningRateSchedule);
        var state = new AgentLoopState(unchecked((ulong)TrainingRun.DeriveSeed(run.Seed, 1)), 0);
        run.AddState(state);
        RecordSettings(run, data, "fqe-continuous");
        run.Start();

        var evaluated = policy.Network;
        var policyDevice = evaluated.parameters().First().device;
        var low = tensor(space.Low.ToArray(), device: run.Device);
        var high = tensor(space.High.ToArray(), device: run.Device);
        var halfRange = tensor(half, device: run.Device);
        var middle = tensor(centre, device: run.Device);
        Tensor PolicyUnitActions(Tensor observations)
        {
            var actions = evaluated.forward(observations.to(policyDevice)).to(run.Device);
            return (minimum(maximum(actions, low), high) - middle) / halfRange;
        }

        Tensor Value(nn.Module<Tensor, Tensor> network, Tensor observations, Tensor unit) =>
            network.forward(cat([normalizer.forward(observations), unit], 1)).squeeze(1);

        while (!run.ShouldStop)
        {
            run.BeginStep();
            using (var scope = NewDisposeScope())
            {
                var (x, a, r, next, terminated) = ContinuousBatch(data, unitActions, state.Random, run.Device);
                Tensor y;
                using (no_grad())
                {
                    y = r + ((1 - terminated) * (float)o.Gamma * Value(target, next, PolicyUnitActions(next)));
                }

                var loss = nn.functional.mse_loss(Value(q, x, a), y);
                Step(run, optimizer, q, loss, state);
            }

            UpdateTarget(run, q, target);
            End(run, state);
        }

        run.Finish();
        var starts = Enumerable.Range(0, data.Count).Where(i => data.EpisodeStarts[i]).ToArray();
        double estimate;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var first = new float[starts.Length * n];
            for (int k = 0; k < starts.Length; k++)
            {
                Array.Copy(data.Observations, starts[k] * n, first, k * n, n);
            }

            var observations = tensor(first, [starts.Length, n], device: run.Device);
            estimate = Value(q, observations, PolicyUnitActions(observations)).mean().item<float>();
        }

        foreach (var constant in new[] { low, high, halfRange, middle })
        {
            constant.Dispose();
        }

        return new OffPolicyEstimate(estimate, starts.Length, run.History);
    }
}
