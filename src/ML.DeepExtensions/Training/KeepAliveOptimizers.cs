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

/// <summary>TorchSharp's SGD and RMSprop updates for one parameter, with owned scalars (see <see cref="KeepAliveAdamStep"/>).</summary>
internal static class KeepAliveOtherSteps
{
    public static void Sgd(Parameter param, ref Tensor? momentumBuffer, double lr, double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        var grad = param.grad;
        if (grad is null)
        {
            return;
        }

        if (weightDecay != 0)
        {
            using var decay = weightDecay.ToScalar();
            grad = grad.add(param, decay);
        }

        if (momentum != 0)
        {
            var buffer = momentumBuffer;
            if (buffer is null)
            {
                buffer = grad.clone().detach().DetachFromDisposeScope();
            }
            else
            {
                using var m = momentum.ToScalar();
                using var keep = (1 - dampening).ToScalar();
                buffer.mul_(m).add_(grad, keep);
            }

            if (nesterov)
            {
                using var m = momentum.ToScalar();
                grad = grad.add(buffer, m);
            }
            else
            {
                grad = buffer;
            }

            momentumBuffer = buffer;
        }

        using var rate = (maximize ? lr : -lr).ToScalar();
        param.add_(grad, rate);
    }

    public static void RmsProp(Parameter param, ref long step, Tensor squareAvg, Tensor? gradAvg, Tensor? momentumBuffer,
        double lr, double alpha, double eps, double weightDecay, double momentum, bool centered, bool maximize)
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
        if (weightDecay != 0)
        {
            using var decay = weightDecay.ToScalar();
            grad = grad.add(param, decay);
        }

        using var a = alpha.ToScalar();
        using var oneMinusA = (1 - alpha).ToScalar();
        using var epsilon = eps.ToScalar();
        using var one = 1.ToScalar();
        squareAvg.mul_(a).addcmul_(grad, grad, oneMinusA);
        Tensor average;
        if (centered)
        {
            using var minusOne = (-1).ToScalar();
            gradAvg!.mul_(a).add_(grad, oneMinusA);
            average = squareAvg.addcmul(gradAvg, gradAvg, minusOne).sqrt_().add_(epsilon, one);
        }
        else
        {
            average = squareAvg.sqrt().add_(epsilon, one);
        }

        using var minusLr = (-lr).ToScalar();
        if (momentum > 0)
        {
            using var m = momentum.ToScalar();
            momentumBuffer!.mul_(m).addcdiv_(grad, average, one);
            param.add_(momentumBuffer, minusLr);
        }
        else
        {
            param.addcdiv_(grad, average, minusLr);
        }
    }
}

/// <summary>
/// The optimizers the trainers create. Their type names are TorchSharp's ("Adam", "AdamW"), because
/// TorchSharp writes the type name into a saved optimizer state and checks it on load: checkpoints
/// written with TorchSharp's classes load into these and back.
/// </summary>
internal static class KeepAliveOptimizers
{
    /// <summary>SGD whose step keeps its scalars alive.</summary>
    internal sealed class SGD : TorchSharp.Modules.SGD
    {
        public SGD(IEnumerable<Parameter> parameters, double lr, double momentum, double dampening, double weightDecay, bool nesterov)
            : base(parameters, lr, momentum, dampening, weightDecay, nesterov)
        {
        }

        public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum, double dampening, double weightDecay, bool nesterov)
            : base(groups, lr, momentum, dampening, weightDecay, nesterov)
        {
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                KeepAliveOtherSteps.Sgd(param, ref state.momentum_buffer, options.LearningRate!.Value, options.momentum!.Value, options.dampening!.Value,
                    options.weight_decay!.Value, options.nesterov!.Value, options.maximize!.Value);
            }
        }, closure);
    }

    /// <summary>RMSprop whose step keeps its scalars alive.</summary>
    internal sealed class RMSProp : TorchSharp.Modules.RMSProp
    {
        public RMSProp(IEnumerable<Parameter> parameters, double lr, double alpha, double eps, double weightDecay, double momentum)
            : base(parameters, lr, alpha, eps, weightDecay, momentum)
        {
        }

        public RMSProp(IEnumerable<ParamGroup> groups, double lr, double alpha, double eps, double weightDecay, double momentum)
            : base(groups, lr, alpha, eps, weightDecay, momentum)
        {
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                KeepAliveOtherSteps.RmsProp(param, ref state.step, state.square_avg, state.grad_avg, state.momentum_buffer,
                    options.LearningRate!.Value, options.alpha!.Value, options.eps!.Value, options.weight_decay!.Value, options.momentum!.Value,
                    options.centered!.Value, options.maximize!.Value);
            }
        }, closure);
    }

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
