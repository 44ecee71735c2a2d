using ML.DeepExtensions.Data;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// The epoch loop over an <see cref="IBatchSource"/> that the supervised trainers use, as one client
/// of <see cref="TrainingRun"/>: a per-batch dispose scope, training and validation metrics,
/// validation after each epoch. What a batch does is the <see cref="ITrainStep"/>'s business; the run
/// owns the clock, schedules, callbacks, checkpoints, resume and the divergence guard.
/// </summary>
public static class TrainingEngine
{
    /// <summary>How often (in steps) the running training loss is checked for NaN between epoch ends; a check reads one value from the device.</summary>
    private const int DivergenceCheckEverySteps = 32;

    /// <summary>
    /// Runs epochs of <paramref name="train"/> through <paramref name="step"/> on <paramref name="run"/> and
    /// returns the per-epoch history. The step's model and optimizers are added to the run unless the
    /// trainer already added them (with <see cref="TrainingRun.CreateOptimizer"/>, say); the run must not have started.
    /// </summary>
    /// <param name="run">The run: options, clock, callbacks, checkpoints.</param>
    /// <param name="step">Model, optimizers, and what one batch does.</param>
    /// <param name="train">Training batches.</param>
    /// <param name="validation">Validation batches, or null.</param>
    public static TrainingHistory Fit(TrainingRun run, ITrainStep step, IBatchSource train, IBatchSource? validation)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(train);
        if (!run.Modules.Any(m => ReferenceEquals(m.Module, step.Model)))
        {
            run.AddModule("model", step.Model);
        }

        for (int i = 0; i < step.Optimizers.Count; i++)
        {
            if (!run.Optimizers.Contains(step.Optimizers[i]))
            {
                run.AddOptimizer(i == 0 ? "optimizer" : $"optimizer{i}", step.Optimizers[i], i == 0 ? run.Options.LearningRateSchedule : null);
            }
        }

        if (train is DataViewBatchSource source)
        {
            // The run ends after this epoch: reading the next one ahead would be for nothing.
            source.LastEpoch = run.Options.Epochs - 1;
        }

        run.StepsPerEpoch = train.BatchesPerEpoch ?? 0;
        run.Start();
        bool callbacksReadBatchLogs = run.AnyCallbackReadsBatchLogs;
        var trainMetrics = new StepMetrics(run.Options.ComputeTrainingMetrics ? step.CreateMetrics() : []);
        var validationMetrics = new StepMetrics(step.CreateMetrics());
        try
        {
            while (!run.ShouldStop)
            {
                run.BeginEpoch();
                var logs = new TrainingLogs();
                RunTrainingEpoch(run, step, train, trainMetrics, callbacksReadBatchLogs);
                trainMetrics.WriteTo(logs);
                if (validation is not null)
                {
                    run.SetTraining(false);
                    RunValidation(run, step, validation, validationMetrics);
                    validationMetrics.WriteTo(logs, TrainingLogs.ValidationPrefix);
                }

                run.EndEpoch(logs);
            }
        }
        finally
        {
            run.SetTraining(false);
            trainMetrics.Reset();
            validationMetrics.Reset();
        }

        run.Finish();
        return run.History;
    }

    private static void RunTrainingEpoch(TrainingRun run, ITrainStep step, IBatchSource train, StepMetrics metrics, bool batchLogsWanted)
    {
        metrics.Reset();
        var token = run.Options.CancellationToken;
        using var batches = train.GetBatches(run.Epoch, token).GetEnumerator();
        var batchLogs = new TrainingLogs();
        long stepsThisEpoch = 0;
        while (!(run.Options.MaxSteps is long max && run.Step >= max))
        {
            token.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            if (!batches.MoveNext())
            {
                break;
            }

            run.BeginStep();
            step.TrainBatch(batches.Current, metrics);

            // Reading metric values synchronises with the device, so batch logs are filled only for
            // callbacks that implement OnBatchEnd and read its logs. One dictionary serves the epoch:
            // like Keras' logs, it is valid during the call; callbacks copy what they keep.
            batchLogs.Clear();
            if (batchLogsWanted)
            {
                metrics.WriteTo(batchLogs);
            }
            else if (++stepsThisEpoch % DivergenceCheckEverySteps == 0 && metrics.RunningMean(TrainingLogs.Loss) is double loss)
            {
                run.EnsureFinite(TrainingLogs.Loss, loss);
            }

            run.EndStep(batchLogs);
        }
    }

    private static void RunValidation(TrainingRun run, ITrainStep step, IBatchSource validation, StepMetrics metrics)
    {
        metrics.Reset();
        using var noGrad = no_grad();
        using var batches = validation.GetBatches(run.Epoch, run.Options.CancellationToken).GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            try
            {
                if (!batches.MoveNext())
                {
                    break;
                }
            }
            catch (DataValidationException e) when (e.ColumnName is not null)
            {
                // The bridge names the column and the row; only here is it known that these are the validation rows.
                throw new DataValidationException($"In the validation data: {e.Message}", e.ColumnName, e.Role ?? "", e.RowPosition);
            }

            step.EvaluateBatch(batches.Current, metrics);
        }
    }

    /// <summary>True when the callback's class implements OnBatchEnd rather than inheriting the empty default.</summary>
    internal static bool ImplementsBatchEnd(ITrainingCallback callback)
    {
        var map = callback.GetType().GetInterfaceMap(typeof(ITrainingCallback));
        int index = Array.FindIndex(map.InterfaceMethods, m => m.Name == nameof(ITrainingCallback.OnBatchEnd));
        return map.TargetMethods[index].DeclaringType != typeof(ITrainingCallback);
    }
}
