using Microsoft.ML;
using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <content>TD3+BC, the continuous-action method.</content>
public sealed partial class OfflineLearner
{
    /// <summary>
    /// TD3+BC (Fujimoto and Gu 2021) from logs with continuous actions: twin critics fitted to
    /// <c>r + γ(1 − terminated)·min Q′(s′, clip(π′(s′) + clip(noise)))</c>; every
    /// <see cref="OfflineOptions.PolicyDelay"/> critic updates the actor minimises
    /// <c>−λ·Q₁(s, π(s)) + (π(s) − a)²</c> with <c>λ = α / mean |Q₁|</c>, and the targets are Polyak-averaged.
    /// Observations are normalised with the logs' statistics (part of the returned policy); actions are
    /// learnt in [−1, 1] and mapped to <paramref name="actionSpace"/>'s bounds.
    /// </summary>
    /// <remarks>One run step is one critic update; checkpoints hold the four networks, both optimizers and the noise generator.</remarks>
    /// <param name="logs">The logged transitions; the action column is a vector of Single as wide as <paramref name="actionSpace"/>.</param>
    /// <param name="actionSpace">The environment's action space: finite bounds, which every logged action lies within.</param>
    /// <returns>The deterministic policy, which exports to ONNX and becomes an ML.NET model like SAC's.</returns>
    /// <exception cref="ArgumentException">A column is missing or malformed, an action has the wrong width or lies outside the bounds, a value is not finite; the message names the column (and the row).</exception>
    public ContinuousPolicy TrainTd3PlusBc(IDataView logs, BoxSpace actionSpace)
    {
        ArgumentNullException.ThrowIfNull(actionSpace);
        if (Enumerable.Range(0, actionSpace.Size).Any(i => !float.IsFinite(actionSpace.Low[i]) || !float.IsFinite(actionSpace.High[i])))
        {
            throw new ArgumentException($"TD3+BC squashes actions into the action space's bounds; {actionSpace} is unbounded.", nameof(actionSpace));
        }

        var o = Options;
        var data = LoggedTransitions.Read(logs, o, actionSpace);
        int n = data.ObservationSize, d = actionSpace.Size;
        float[] half = [.. Enumerable.Range(0, d).Select(i => (actionSpace.High[i] - actionSpace.Low[i]) / 2)];
        float[] centre = [.. Enumerable.Range(0, d).Select(i => (actionSpace.High[i] + actionSpace.Low[i]) / 2)];
        var unitActions = new float[data.ContinuousActions.Length];
        for (int i = 0; i < unitActions.Length; i++)
        {
            int j = i % d;
            unitActions[i] = half[j] > 0 ? (data.ContinuousActions[i] - centre[j]) / half[j] : 0;
        }

        var run = new TrainingRun(o);
        TrainingRun.SeedForInitialisation(run.Seed);
        nn.Module<Tensor, Tensor> normalize = nn.Identity();
        if (o.NormalizeObservations)
        {
            var normalizer = new ObservationNormalizer(n);
            normalizer.Update(data.Observations);
            normalize = normalizer;
        }

        normalize.to(run.Device);
        var actor = run.AddModule("actor", AgentNetworks.Mlp(n, o.HiddenLayers, d));
        var actorTarget = run.AddModule("actor_target", AgentNetworks.Mlp(n, o.HiddenLayers, d));
        var critic = run.AddModule("critic", new TwinCritic(n, d, o.HiddenLayers));
        var criticTarget = run.AddModule("critic_target", new TwinCritic(n, d, o.HiddenLayers));
        Polyak(actor, actorTarget, 1);
        Polyak(critic, criticTarget, 1);
        foreach (var parameter in actorTarget.parameters().Concat(criticTarget.parameters()))
        {
            parameter.requires_grad = false;
        }

        var actorOptimizer = run.CreateOptimizer("actor", actor, o.Optimizer, o.LearningRateSchedule);
        var criticOptimizer = run.CreateOptimizer("critic", critic, o.Optimizer, o.LearningRateSchedule);
        var state = new AgentLoopState(unchecked((ulong)TrainingRun.DeriveSeed(run.Seed, 1)), 0);
        run.AddState(state);
        RecordSettings(run, data, "td3+bc");
        foreach (var (name, value) in new (string, double)[]
        {
            ("BehaviorCloningAlpha", o.BehaviorCloningAlpha), ("TargetPolicyNoise", o.TargetPolicyNoise), ("TargetNoiseClip", o.TargetNoiseClip),
            ("PolicyDelay", o.PolicyDelay), ("Tau", o.Tau), ("NormalizeObservations", o.NormalizeObservations ? 1 : 0),
        })
        {
            run.RecordSetting($"offline.{name}", value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }

        run.Start();
        while (!run.ShouldStop)
        {
            run.BeginStep();
            using (var scope = NewDisposeScope())
            {
                var (observations, actions, rewards, nextObservations, terminated) = ContinuousBatch(data, unitActions, state.Random, run.Device);
                Tensor x, next, y;
                using (no_grad())
                {
                    x = normalize.forward(observations);
                    next = normalize.forward(nextObservations);
                    var noise = (Noise(state.Random, o.BatchSize, d, run.Device) * (float)o.TargetPolicyNoise).clamp(-o.TargetNoiseClip, o.TargetNoiseClip);
                    var nextActions = (actorTarget.forward(next).tanh() + noise).clamp(-1, 1);
                    var (t1, t2) = criticTarget.Values(next, nextActions);
                    y = rewards + ((1 - terminated) * (float)o.Gamma * minimum(t1, t2));
                }

                var (q1, q2) = critic.Values(x, actions);
                var criticLoss = nn.functional.mse_loss(q1, y) + nn.functional.mse_loss(q2, y);
                Step(run, criticOptimizer, critic, criticLoss, state);

                if ((run.Step + 1) % o.PolicyDelay == 0)
                {
                    var policyActions = actor.forward(x).tanh();
                    var (q, _) = critic.Values(x, policyActions);
                    var lambda = (float)o.BehaviorCloningAlpha / (q.abs().mean().detach() + 1e-8f);
                    var actorLoss = (-lambda * q.mean()) + nn.functional.mse_loss(policyActions, actions);
                    actorOptimizer.zero_grad();
                    actorLoss.backward();
                    if (run.Options.GradientClipNorm is double maxNorm)
                    {
                        nn.utils.clip_grad_norm_(actor.parameters(), maxNorm);
                    }

                    actorOptimizer.step();
                    run.EnsureFinite("actor_loss", actorLoss.item<float>());
                    Polyak(critic, criticTarget, o.Tau);
                    Polyak(actor, actorTarget, o.Tau);
                }
            }

            End(run, state);
        }

        run.Finish();
        var scale = nn.Linear(d, d);
        using (no_grad())
        {
            scale.weight!.copy_(diag(tensor(half)));
            scale.bias!.copy_(tensor(centre));
        }

        foreach (var parameter in scale.parameters())
        {
            parameter.requires_grad = false;
        }

        scale.to(run.Device);
        var network = nn.Sequential(("normalize", normalize), ("actor", actor), ("tanh", nn.Tanh()), ("scale", scale));
        return new ContinuousPolicy(network, n, actionSpace, run.History, double.NaN, -1, null);
    }

    private (Tensor Observations, Tensor Actions, Tensor Rewards, Tensor Next, Tensor Terminated) ContinuousBatch(LoggedTransitions data, float[] unitActions, Pcg64 random, Device device)
    {
        int b = Options.BatchSize, size = data.ObservationSize, d = data.ActionSize;
        var observations = new float[b * size];
        var next = new float[b * size];
        var actions = new float[b * d];
        var rewards = new float[b];
        var terminated = new float[b];
        for (int i = 0; i < b; i++)
        {
            int j = (int)random.NextInt64(data.Count);
            Array.Copy(data.Observations, j * size, observations, i * size, size);
            Array.Copy(data.NextObservations, j * size, next, i * size, size);
            Array.Copy(unitActions, j * d, actions, i * d, d);
            rewards[i] = data.Rewards[j];
            terminated[i] = data.Terminated[j];
        }

        return (tensor(observations, [b, size], device: device), tensor(actions, [b, d], device: device), tensor(rewards, [b], device: device),
            tensor(next, [b, size], device: device), tensor(terminated, [b], device: device));
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
