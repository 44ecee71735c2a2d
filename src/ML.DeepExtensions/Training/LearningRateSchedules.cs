namespace ML.DeepExtensions.Training;

/// <summary>Where training stands when the learning rate is set for the next batch.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Step">0-based global batch index.</param>
/// <param name="StepsPerEpoch">Batches per epoch.</param>
/// <param name="TotalSteps">Batches in the whole run.</param>
/// <param name="PlateauFactor">The reduction a <see cref="ReduceOnPlateauSchedule"/> has reached so far (1 when none).</param>
public readonly record struct ScheduleClock(int Epoch, long Step, long StepsPerEpoch, long TotalSteps, double PlateauFactor = 1.0);

/// <summary>
/// A learning-rate schedule: a factor applied to every optimizer's base learning rate before each
/// batch. Schedules are functions of the training clock (plus, for <see cref="ReduceOnPlateauSchedule"/>,
/// a monitored metric), so a run resumed from a checkpoint follows exactly the same rates.
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>The factor for the batch at <paramref name="clock"/>.</summary>
    public abstract double Factor(ScheduleClock clock);

    /// <summary>True when the schedule needs the run's total number of steps.</summary>
    public virtual bool NeedsTotalSteps => false;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming an invalid setting.</summary>
    public virtual void Validate()
    {
    }
}

/// <summary>Multiplies the rate by <see cref="Gamma"/> every <see cref="StepEpochs"/> epochs.</summary>
public sealed record StepDecaySchedule(int StepEpochs, double Gamma = 0.1) : LearningRateSchedule
{
    /// <inheritdoc />
    public override double Factor(ScheduleClock clock) => Math.Pow(Gamma, clock.Epoch / StepEpochs);

    /// <inheritdoc />
    public override void Validate()
    {
        OptionChecks.Require(StepEpochs > 0, nameof(StepEpochs), StepEpochs, "must be positive");
        OptionChecks.Require(Gamma > 0, nameof(Gamma), Gamma, "must be positive");
    }
}

/// <summary>Cosine annealing from the base rate down to <see cref="MinFactor"/> × base over the whole run.</summary>
public sealed record CosineSchedule(double MinFactor = 0) : LearningRateSchedule
{
    /// <inheritdoc />
    public override bool NeedsTotalSteps => true;

    /// <inheritdoc />
    public override double Factor(ScheduleClock clock)
    {
        double progress = clock.TotalSteps <= 1 ? 1 : (double)clock.Step / (clock.TotalSteps - 1);
        return MinFactor + ((1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress))));
    }

    /// <inheritdoc />
    public override void Validate() =>
        OptionChecks.Require(MinFactor is >= 0 and <= 1, nameof(MinFactor), MinFactor, "must be in [0, 1]");
}

/// <summary>
/// The one-cycle policy: the base rate is the peak. The rate rises (cosine) from base/<see cref="DivFactor"/>
/// to the peak over the first <see cref="WarmupFraction"/> of the run, then falls (cosine) to
/// base/(<see cref="DivFactor"/>·<see cref="FinalDivFactor"/>).
/// </summary>
public sealed record OneCycleSchedule(double WarmupFraction = 0.3, double DivFactor = 25, double FinalDivFactor = 1e4) : LearningRateSchedule
{
    /// <inheritdoc />
    public override bool NeedsTotalSteps => true;

    /// <inheritdoc />
    public override double Factor(ScheduleClock clock)
    {
        double start = 1 / DivFactor;
        double end = start / FinalDivFactor;
        double warmupSteps = Math.Max(1, (WarmupFraction * clock.TotalSteps) - 1);
        if (clock.Step <= warmupSteps)
        {
            return Anneal(start, 1, clock.Step / warmupSteps);
        }

        double remaining = Math.Max(1, clock.TotalSteps - 1 - warmupSteps);
        return Anneal(1, end, Math.Min(1, (clock.Step - warmupSteps) / remaining));
    }

    /// <inheritdoc />
    public override void Validate()
    {
        OptionChecks.Require(WarmupFraction is > 0 and < 1, nameof(WarmupFraction), WarmupFraction, "must be in (0, 1)");
        OptionChecks.Require(DivFactor >= 1, nameof(DivFactor), DivFactor, "must be at least 1");
        OptionChecks.Require(FinalDivFactor >= 1, nameof(FinalDivFactor), FinalDivFactor, "must be at least 1");
    }

    private static double Anneal(double from, double to, double progress) =>
        to + ((from - to) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
}

/// <summary>Linear warm-up over the first <see cref="WarmupSteps"/> batches, then <see cref="Then"/> (or constant).</summary>
public sealed record LinearWarmupSchedule(long WarmupSteps, LearningRateSchedule? Then = null) : LearningRateSchedule
{
    /// <inheritdoc />
    public override bool NeedsTotalSteps => Then?.NeedsTotalSteps ?? false;

    /// <inheritdoc />
    public override double Factor(ScheduleClock clock)
    {
        double warmup = Math.Min(1.0, (clock.Step + 1) / (double)WarmupSteps);
        return warmup * (Then?.Factor(clock) ?? 1.0);
    }

    /// <inheritdoc />
    public override void Validate()
    {
        OptionChecks.Require(WarmupSteps > 0, nameof(WarmupSteps), WarmupSteps, "must be positive");
        Then?.Validate();
    }
}

/// <summary>
/// Multiplies the rate by <see cref="ReductionFactor"/> when <see cref="Monitor"/> has not improved for
/// <see cref="Patience"/> epochs, down to <see cref="MinFactor"/>. Its state is part of every checkpoint.
/// </summary>
public sealed record ReduceOnPlateauSchedule(
    string Monitor = "val_loss",
    double ReductionFactor = 0.1,
    int Patience = 10,
    double MinDelta = 1e-4,
    double MinFactor = 0,
    MonitorMode Mode = MonitorMode.Auto) : LearningRateSchedule
{
    /// <inheritdoc />
    public override double Factor(ScheduleClock clock) => clock.PlateauFactor;

    /// <inheritdoc />
    public override void Validate()
    {
        OptionChecks.Require(ReductionFactor is > 0 and < 1, nameof(ReductionFactor), ReductionFactor, "must be in (0, 1)");
        OptionChecks.Require(Patience >= 0, nameof(Patience), Patience, "must be zero or positive");
        OptionChecks.Require(MinFactor is >= 0 and < 1, nameof(MinFactor), MinFactor, "must be in [0, 1)");
    }

    /// <summary>Finds the plateau schedule inside a (possibly wrapped) schedule.</summary>
    internal static ReduceOnPlateauSchedule? FindIn(LearningRateSchedule? schedule) => schedule switch
    {
        ReduceOnPlateauSchedule plateau => plateau,
        LinearWarmupSchedule warmup => FindIn(warmup.Then),
        _ => null,
    };
}
