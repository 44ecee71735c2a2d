using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// TorchSharp's Adam and AdamW steps, operation for operation (same values, state and state-dict
/// format), except that every <see cref="Scalar"/> handed to libtorch is owned here and alive until
/// the call returns. TorchSharp 0.107 converts them implicitly (<c>value: 1 - beta2</c>) and keeps no
/// reference during the native call, so a garbage collection meanwhile can let the finalizer free a
/// scalar that libtorch is reading ("Expected false to be true" from <c>Scalar::toFloat</c>;
/// docs/reliability.md).
/// </summary>
internal static class KeepAliveAdamStep
{
    /// <summary>One parameter's update; <paramref name="decoupled"/> selects AdamW's weight decay.</summary>
    public static void Update(Parameter param, ref long step, Tensor expAvg, Tensor expAvgSq, ref Tensor? maxExpAvgSq,
        double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize, bool decoupled)
    {
        var grad = param.grad;
        if (grad is null)
        {
            return;
        }

        if (maximize)
        {
            grad = -grad;
        }

        step += 1;
        if (decoupled)
        {
            using var decay = (1 - (lr * weightDecay)).ToScalar();
            param.mul_(decay);
        }

        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        if (!decoupled && weightDecay != 0)
        {
            using var decay = weightDecay.ToScalar();
            grad = grad.add(param, decay);
        }

        using (var b1 = beta1.ToScalar())
        using (var oneMinusB1 = (1 - beta1).ToScalar())
        {
            expAvg.mul_(b1).add_(grad, oneMinusB1);
        }

        using (var b2 = beta2.ToScalar())
        using (var oneMinusB2 = (1 - beta2).ToScalar())
        {
            expAvgSq.mul_(b2).addcmul_(grad, grad.conj(), oneMinusB2);
        }

        using var correction = Math.Sqrt(biasCorrection2).ToScalar();
        using var epsilon = eps.ToScalar();

        // add_(Scalar) alone would build its alpha of 1 implicitly, inside TorchSharp.
        using var one = 1.ToScalar();
        Tensor denominator;
        if (amsgrad)
        {
            var previous = maxExpAvgSq!;
            maxExpAvgSq = torch.maximum(previous, expAvgSq).DetachFromDisposeScope();
            previous.Dispose();
            denominator = maxExpAvgSq.sqrt().div(correction).add_(epsilon, one);
        }
        else
        {
            denominator = expAvgSq.sqrt().div(correction).add_(epsilon, one);
        }

        using var stepSize = (-(lr / biasCorrection1)).ToScalar();
        param.addcdiv_(expAvg, denominator, stepSize);
    }
}

/// <summary>
/// The optimizers the trainers create. Their type names are TorchSharp's ("Adam", "AdamW"), because
/// TorchSharp writes the type name into a saved optimizer state and checks it on load: checkpoints
/// written with TorchSharp's classes load into these and back.
/// </summary>
internal static class KeepAliveOptimizers
{
    /// <summary>Adam whose step keeps its scalars alive (see <see cref="KeepAliveAdamStep"/>).</summary>
    internal sealed class Adam : TorchSharp.Modules.Adam
    {
        public Adam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weightDecay)
            : base(parameters, lr, beta1, beta2, eps, weightDecay)
        {
        }

        public Adam(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay)
            : base(groups, lr, beta1, beta2, eps, weightDecay)
        {
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                KeepAliveAdamStep.Update(param, ref state.step, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq,
                    options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value,
                    options.amsgrad!.Value, options.maximize!.Value, decoupled: false);
            }
        }, closure);
    }

    /// <summary>AdamW whose step keeps its scalars alive (see <see cref="KeepAliveAdamStep"/>).</summary>
    internal sealed class AdamW : TorchSharp.Modules.AdamW
    {
        public AdamW(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps, double weightDecay)
            : base(parameters, lr, beta1, beta2, eps, weightDecay)
        {
        }

        public AdamW(IEnumerable<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay)
            : base(groups, lr, beta1, beta2, eps, weightDecay)
        {
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                KeepAliveAdamStep.Update(param, ref state.step, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq,
                    options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value, options.weight_decay!.Value,
                    options.amsgrad!.Value, options.maximize!.Value, decoupled: true);
            }
        }, closure);
    }
}
