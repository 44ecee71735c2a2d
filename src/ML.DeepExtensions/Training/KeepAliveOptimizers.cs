using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// The scalars of one parameter group's step, owned until the step ends. TorchSharp 0.107's
/// optimizers convert them implicitly (<c>value: 1 - beta2</c>) and keep no reference during the
/// native call, so a garbage collection meanwhile can let the finalizer free a scalar that libtorch
/// is reading ("Expected false to be true" from <c>Scalar::toFloat</c>; docs/reliability.md).
/// </summary>
internal abstract class GroupScalars : IDisposable
{
    private readonly List<Scalar> _owned = [];

    protected GroupScalars()
    {
        // add_(Scalar) and addcdiv_(Tensor, Tensor) alone would build their factor of 1 implicitly, inside TorchSharp.
        One = Own(1.ToScalar());
    }

    protected Scalar One { get; }

    /// <summary>A scalar alive until <see cref="Dispose"/>.</summary>
    protected Scalar Own(Scalar scalar)
    {
        _owned.Add(scalar);
        return scalar;
    }

    public void Dispose()
    {
        foreach (var scalar in _owned)
        {
            scalar.Dispose();
        }
    }
}

/// <summary>TorchSharp's Adam and AdamW update, operation for operation (same values), for the parameters of one group.</summary>
internal sealed class AdamGroupStep : GroupScalars
{
    private readonly double _lr, _beta1, _beta2;
    private readonly bool _amsgrad, _maximize, _decoupled;
    private readonly Scalar _beta1Scalar, _oneMinusBeta1, _beta2Scalar, _oneMinusBeta2, _epsilon;
    private readonly Scalar? _decay;

    // decoupled: AdamW's weight decay (the weights shrink) rather than Adam's (the gradient grows).
    public AdamGroupStep(double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize, bool decoupled)
    {
        (_lr, _beta1, _beta2, _amsgrad, _maximize, _decoupled) = (lr, beta1, beta2, amsgrad, maximize, decoupled);
        _beta1Scalar = Own(beta1.ToScalar());
        _oneMinusBeta1 = Own((1 - beta1).ToScalar());
        _beta2Scalar = Own(beta2.ToScalar());
        _oneMinusBeta2 = Own((1 - beta2).ToScalar());
        _epsilon = Own(eps.ToScalar());
        _decay = decoupled ? Own((1 - (lr * weightDecay)).ToScalar()) : weightDecay != 0 ? Own(weightDecay.ToScalar()) : null;
    }

    public void Apply(Parameter param, ref long step, Tensor expAvg, Tensor expAvgSq, ref Tensor? maxExpAvgSq)
    {
        var grad = param.grad;
        if (grad is null)
        {
            return;
        }

        if (_maximize)
        {
            grad = -grad;
        }

        step += 1;
        if (_decoupled)
        {
            param.mul_(_decay!);
        }

        double biasCorrection1 = 1 - Math.Pow(_beta1, step);
        double biasCorrection2 = 1 - Math.Pow(_beta2, step);
        if (!_decoupled && _decay is not null)
        {
            grad = grad.add(param, _decay);
        }

        expAvg.mul_(_beta1Scalar).add_(grad, _oneMinusBeta1);
        expAvgSq.mul_(_beta2Scalar).addcmul_(grad, grad.conj(), _oneMinusBeta2);

        // These two depend on the parameter's own step count.
        using var correction = Math.Sqrt(biasCorrection2).ToScalar();
        using var stepSize = (-(_lr / biasCorrection1)).ToScalar();
        Tensor denominator;
        if (_amsgrad)
        {
            var previous = maxExpAvgSq!;
            maxExpAvgSq = torch.maximum(previous, expAvgSq).DetachFromDisposeScope();
            previous.Dispose();
            denominator = maxExpAvgSq.sqrt().div(correction).add_(_epsilon, One);
        }
        else
        {
            denominator = expAvgSq.sqrt().div(correction).add_(_epsilon, One);
        }

        param.addcdiv_(expAvg, denominator, stepSize);
    }
}

/// <summary>TorchSharp's SGD update, operation for operation, for the parameters of one group.</summary>
internal sealed class SgdGroupStep : GroupScalars
{
    private readonly bool _nesterov;
    private readonly Scalar? _decay, _momentum, _keep;
    private readonly Scalar _rate;

    public SgdGroupStep(double lr, double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        _nesterov = nesterov;
        _decay = weightDecay != 0 ? Own(weightDecay.ToScalar()) : null;
        _momentum = momentum != 0 ? Own(momentum.ToScalar()) : null;
        _keep = momentum != 0 ? Own((1 - dampening).ToScalar()) : null;
        _rate = Own((maximize ? lr : -lr).ToScalar());
    }

    public void Apply(Parameter param, ref Tensor? momentumBuffer)
    {
        var grad = param.grad;
        if (grad is null)
        {
            return;
        }

        if (_decay is not null)
        {
            grad = grad.add(param, _decay);
        }

        if (_momentum is not null)
        {
            var buffer = momentumBuffer;
            if (buffer is null)
            {
                buffer = grad.clone().detach().DetachFromDisposeScope();
            }
            else
            {
                buffer.mul_(_momentum).add_(grad, _keep!);
            }

            grad = _nesterov ? grad.add(buffer, _momentum) : buffer;
            momentumBuffer = buffer;
        }

        param.add_(grad, _rate);
    }
}

/// <summary>TorchSharp's RMSprop update, operation for operation, for the parameters of one group.</summary>
internal sealed class RmsPropGroupStep : GroupScalars
{
    private readonly bool _centered, _maximize;
    private readonly Scalar? _decay, _momentum;
    private readonly Scalar _alpha, _oneMinusAlpha, _epsilon, _minusOne, _minusLr;

    public RmsPropGroupStep(double lr, double alpha, double eps, double weightDecay, double momentum, bool centered, bool maximize)
    {
        (_centered, _maximize) = (centered, maximize);
        _decay = weightDecay != 0 ? Own(weightDecay.ToScalar()) : null;
        _momentum = momentum > 0 ? Own(momentum.ToScalar()) : null;
        _alpha = Own(alpha.ToScalar());
        _oneMinusAlpha = Own((1 - alpha).ToScalar());
        _epsilon = Own(eps.ToScalar());
        _minusOne = Own((-1).ToScalar());
        _minusLr = Own((-lr).ToScalar());
    }

    public void Apply(Parameter param, ref long step, Tensor squareAvg, Tensor? gradAvg, Tensor? momentumBuffer)
    {
        var grad = param.grad;
        if (grad is null)
        {
            return;
        }

        if (_maximize)
        {
            grad = -grad;
        }

        step += 1;
        if (_decay is not null)
        {
            grad = grad.add(param, _decay);
        }

        squareAvg.mul_(_alpha).addcmul_(grad, grad, _oneMinusAlpha);
        Tensor average;
        if (_centered)
        {
            gradAvg!.mul_(_alpha).add_(grad, _oneMinusAlpha);
            average = squareAvg.addcmul(gradAvg, gradAvg, _minusOne).sqrt_().add_(_epsilon, One);
        }
        else
        {
            average = squareAvg.sqrt().add_(_epsilon, One);
        }

        if (_momentum is not null)
        {
            momentumBuffer!.mul_(_momentum).addcdiv_(grad, average, One);
            param.add_(momentumBuffer, _minusLr);
        }
        else
        {
            param.addcdiv_(grad, average, _minusLr);
        }
    }
}

/// <summary>
/// The optimizers the trainers create: TorchSharp's, with the step taken by the group steps above
/// (same values, state and state-dict format, but every scalar owned until the step ends). Their
/// type names are TorchSharp's ("Adam", "AdamW", "SGD", "RMSProp"), because TorchSharp writes the type
/// name into a saved optimizer state and checks it on load: checkpoints load either way.
/// </summary>
internal static class KeepAliveOptimizers
{
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
            var o = (Options)group.Options;
            using var update = new SgdGroupStep(o.LearningRate!.Value, o.momentum!.Value, o.dampening!.Value, o.weight_decay!.Value, o.nesterov!.Value, o.maximize!.Value);
            foreach (var param in group.Parameters)
            {
                update.Apply(param, ref ((State)_state[param.Handle]).momentum_buffer);
            }
        }, closure);
    }

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
            var o = (Options)group.Options;
            using var update = new RmsPropGroupStep(o.LearningRate!.Value, o.alpha!.Value, o.eps!.Value, o.weight_decay!.Value, o.momentum!.Value, o.centered!.Value, o.maximize!.Value);
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                update.Apply(param, ref state.step, state.square_avg, state.grad_avg, state.momentum_buffer);
            }
        }, closure);
    }

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
            var o = (Options)group.Options;
            using var update = new AdamGroupStep(o.LearningRate!.Value, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.weight_decay!.Value, o.amsgrad!.Value, o.maximize!.Value, decoupled: false);
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                update.Apply(param, ref state.step, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq);
            }
        }, closure);
    }

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
            var o = (Options)group.Options;
            using var update = new AdamGroupStep(o.LearningRate!.Value, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.weight_decay!.Value, o.amsgrad!.Value, o.maximize!.Value, decoupled: true);
            foreach (var param in group.Parameters)
            {
                var state = (State)_state[param.Handle];
                update.Apply(param, ref state.step, state.exp_avg, state.exp_avg_sq, ref state.max_exp_avg_sq);
            }
        }, closure);
    }
}
