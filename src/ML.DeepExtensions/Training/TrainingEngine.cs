using System.Diagnostics;
using ML.DeepExtensions.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// The one training loop every model family uses: epochs of batches from an <see cref="IBatchSource"/>,
/// a per-batch dispose scope, learning-rate schedules, validation, callbacks, checkpoints and
/// resume, cancellation and seeded determinism. What a batch does is the <see cref="ITrainStep"/>'s
/// business; loops that need more control (reinforcement learning) call <see cref="CallbackList"/> by hand.
/// </summary>
public sealed class TrainingEngine
{
    private readonly TrainingOptions _options;
    private readonly IReadOnlyList<ITrainingCallback> _builtInCallbacks;

    /// <summary>Creates an engine for one run.</summary>
    /// <param name="options">Validated before training starts.</param>
    /// <param name="builtInCallbacks">Callbacks a trainer adds (logging); called before <see cref="TrainingOptions.Callbacks"/>.</param>
    public TrainingEngine(TrainingOptions options, IEnumerable<ITrainingCallback>? builtInCallbacks = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _builtInCallbacks = builtInCallbacks?.ToList() ?? [];
    }

    /// <summary>
    /// Seeds libtorch for a run's weight initialisation. Trainers call this before building the
    /// network so that the same seed gives the same initial weights.
    /// </summary>
    public static void SeedForInitialisation(int seed) => random.manual_seed(DeriveSeed(seed, -1));

    /// <summary>Runs training and returns the per-epoch metric history.</summary>
    /// <param name="step">Model, optimizers, and what one batch does.</param>
    /// <param name="train">Training batches.</param>
    /// <param name="validation">Validation batches, or null.</param>
    /// <param name="seed">The run's seed (dropout and per-epoch reseeding).</param>
    /// <param name="device">The device the step's model lives on.</param>
    public TrainingHistory Fit(ITrainStep step, IBatchSource train, IBatchSource? validation, int seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(train);
        if (_options.IntraOpThreads is int threads)
        {
            set_num_threads(threads);
        }

        if (_options.Checkpoints is { } checkpoints)
        {
            CheckpointFile.EnsureWritable(checkpoints.Directory);
        }

        var history = new TrainingHistory();
        var session = new TrainingSession(step, _options, device, history);
        var callbackObjects = new List<ITrainingCallback>(_builtInCallbacks);
        if (_options.EarlyStopping is { } early)
        {
            callbackObjects.Add(new EarlyStopping(early));
        }

        callbackObjects.AddRange(_options.Callbacks);
        var callbacks = new CallbackList(callbackObjects);
        bool batchLogsWanted = callbackObjects.Any(c => c.ReadsBatchLogs && ImplementsBatchEnd(c));
        var baseRates = step.Optimizers.Select(o => o.ParamGroups.Select(g => g.LearningRate).ToArray()).ToArray();
        var plateau = ReduceOnPlateauSchedule.FindIn(_options.LearningRateSchedule);
        var plateauMonitor = plateau is null ? null : new MetricMonitor(plateau.Monitor, plateau.Mode, plateau.MinDelta);
        double plateauFactor = 1.0;

        long stepsPerEpoch = train.BatchesPerEpoch ?? 0;
        if (stepsPerEpoch == 0 && _options.LearningRateSchedule is { NeedsTotalSteps: true })
        {
            throw new InvalidOperationException(
                $"{_options.LearningRateSchedule.GetType().Name} needs the number of batches per epoch, which this batch source does not know.");
        }

        int startEpoch = 0;
        if (_options.ResumeFromCheckpoint is { } resumePath)
        {
            using var contents = CheckpointFile.Read(resumePath);
            if (contents.Seed != seed)
            {
                throw new InvalidOperationException(
                    $"The checkpoint '{resumePath}' was written by a run with seed {contents.Seed}; resuming with seed {seed} would not continue that run. Set Seed = {contents.Seed} (or leave it unset in a trainer).");
            }

            CheckpointFile.LoadModelState(step.Model, contents.ModelState, resumePath);
            if (contents.OptimizerStates.Count != step.Optimizers.Count)
            {
                throw new InvalidDataException(
                    $"The checkpoint '{resumePath}' holds {contents.OptimizerStates.Count} optimizer states but this training has {step.Optimizers.Count} optimizers.");
            }

            for (int i = 0; i < step.Optimizers.Count; i++)
            {
                CheckpointFile.LoadOptimizer(step.Optimizers[i], contents.OptimizerStates[i]);
            }

            foreach (var stateful in callbackObjects.OfType<ICheckpointState>())
            {
                stateful.Restore(contents);
            }

            foreach (var logs in contents.History)
            {
                history.Add(new TrainingLogs(logs));
            }

            plateauFactor = contents.PlateauFactor;
            if (plateauMonitor is not null && contents.PlateauMonitor is { } monitorState)
            {
                plateauMonitor.SetState(monitorState);
            }

            startEpoch = contents.CompletedEpochs;
            session.GlobalStep = contents.GlobalStep;
        }

        var trainMetrics = new StepMetrics(_options.ComputeTrainingMetrics ? step.CreateMetrics() : []);
        var validationMetrics = new StepMetrics(step.CreateMetrics());
        var stopwatch = Stopwatch.StartNew();
        session.StepsPerEpoch = stepsPerEpoch;
        callbacks.OnTrainBegin(session);
        try
        {
            for (int epoch = startEpoch; epoch < _options.Epochs && !session.StopTraining; epoch++)
            {
                _options.CancellationToken.ThrowIfCancellationRequested();
                session.Epoch = epoch;
                random.manual_seed(DeriveSeed(seed, epoch));
                callbacks.OnEpochBegin(session, epoch);
                var logs = new TrainingLogs();
                RunTrainingEpoch(step, train, session, callbacks, trainMetrics, baseRates, plateauFactor, batchLogsWanted);
                trainMetrics.WriteTo(logs);
                if (validation is not null)
                {
                    RunValidation(step, validation, epoch, validationMetrics);
                    validationMetrics.WriteTo(logs, TrainingLogs.ValidationPrefix);
                }

                logs[TrainingLogs.LearningRate] = session.LearningRate;
                callbacks.OnEpochEnd(session, epoch, logs);

                // After the callbacks, which may add metrics of their own (an RL reward, say).
                if (plateau is not null && plateauMonitor is not null && !plateauMonitor.Observe(epoch, logs)
                    && plateauMonitor.EpochsWithoutImprovement > plateau.Patience)
                {
                    plateauFactor = Math.Max(plateau.MinFactor, plateauFactor * plateau.ReductionFactor);
                    plateauMonitor.ResetWait();
                }

                history.Add(logs);
                _options.Progress?.Report(new TrainingProgress(epoch + 1, _options.Epochs, session.GlobalStep, logs, stopwatch.Elapsed));
                if (_options.Checkpoints is { } every && (epoch + 1) % every.EveryEpochs == 0)
                {
                    WriteCheckpoint(every.Directory, epoch + 1, seed, session, callbackObjects, plateauFactor, plateauMonitor);
                }
            }
        }
        finally
        {
            step.Model.eval();
            trainMetrics.Reset();
            validationMetrics.Reset();
        }

        callbacks.OnTrainEnd(session);
        return history;
    }

    private void RunTrainingEpoch(
        ITrainStep step, IBatchSource train, TrainingSession session, CallbackList callbacks,
        StepMetrics metrics, double[][] baseRates, double plateauFactor, bool batchLogsWanted)
    {
        metrics.Reset();
        step.Model.train();
        var token = _options.CancellationToken;
        using var batches = train.GetBatches(session.Epoch, token).GetEnumerator();
        long stepsPerEpoch = Math.Max(1, session.StepsPerEpoch);
        var batchLogs = new TrainingLogs();
        while (true)
        {
            token.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            if (!batches.MoveNext())
            {
                break;
            }

            var clock = new ScheduleClock(session.Epoch, session.GlobalStep, stepsPerEpoch, stepsPerEpoch * _options.Epochs, plateauFactor);
            double factor = _options.LearningRateSchedule?.Factor(clock) ?? plateauFactor;
            ApplyLearningRate(step, baseRates, factor);
            session.LearningRate = baseRates.Length > 0 && baseRates[0].Length > 0 ? baseRates[0][0] * factor : 0;
            callbacks.OnBatchBegin(session, session.GlobalStep);
            step.TrainBatch(batches.Current, metrics);

            // Reading metric values synchronises with the device, so batch logs are filled only for
            // callbacks that implement OnBatchEnd and read its logs. One dictionary serves the epoch:
            // like Keras' logs, it is valid during the call; callbacks copy what they keep.
            batchLogs.Clear();
            if (batchLogsWanted)
            {
                metrics.WriteTo(batchLogs);
            }

            callbacks.OnBatchEnd(session, session.GlobalStep, batchLogs);
            session.GlobalStep++;
        }
    }

    private void RunValidation(ITrainStep step, IBatchSource validation, int epoch, StepMetrics metrics)
    {
        metrics.Reset();
        step.Model.eval();
        using var noGrad = no_grad();
        using var batches = validation.GetBatches(epoch, _options.CancellationToken).GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!batches.MoveNext())
            {
                break;
            }

            step.EvaluateBatch(batches.Current, metrics);
        }
    }

    private static void ApplyLearningRate(ITrainStep step, double[][] baseRates, double factor)
    {
        for (int i = 0; i < step.Optimizers.Count; i++)
        {
            int g = 0;
            foreach (var group in step.Optimizers[i].ParamGroups)
            {
                group.LearningRate = baseRates[i][g++] * factor;
            }
        }
    }

    private static void WriteCheckpoint(
        string directory, int completedEpochs, int seed, TrainingSession session,
        IEnumerable<ITrainingCallback> callbacks, double plateauFactor, MetricMonitor? plateauMonitor)
    {
        var contents = new CheckpointContents
        {
            CompletedEpochs = completedEpochs,
            GlobalStep = session.GlobalStep,
            Seed = seed,
            PlateauFactor = plateauFactor,
            PlateauMonitor = plateauMonitor?.GetState(),
            History = session.History.Epochs.Select(e => new Dictionary<string, double>(e)).ToList(),
            OptimizerStates = session.Step.Optimizers.Select(CheckpointFile.SaveOptimizer).ToList(),
        };
        foreach (var (name, value) in session.Model.state_dict())
        {
            contents.ModelState[name] = value;
        }

        foreach (var stateful in callbacks.OfType<ICheckpointState>())
        {
            stateful.Save(contents);
        }

        CheckpointFile.Write(Path.Combine(directory, CheckpointFile.FileName(completedEpochs)), contents);
    }

    /// <summary>True when the callback's class implements OnBatchEnd rather than inheriting the empty default.</summary>
    private static bool ImplementsBatchEnd(ITrainingCallback callback)
    {
        var map = callback.GetType().GetInterfaceMap(typeof(ITrainingCallback));
        int index = Array.FindIndex(map.InterfaceMethods, m => m.Name == nameof(ITrainingCallback.OnBatchEnd));
        return map.TargetMethods[index].DeclaringType != typeof(ITrainingCallback);
    }

    /// <summary>A well-mixed per-epoch seed (SplitMix64 finaliser), so epochs do not share random streams.</summary>
    internal static long DeriveSeed(int seed, int epoch)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)(uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) & 0x7FFF_FFFF_FFFF_FFFFUL);
    }
}
