using System.Text.Json;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// Stops training when a monitored metric has not improved for a number of epochs, and optionally
/// restores the weights of the best epoch. Its state travels in checkpoints.
/// </summary>
public sealed class EarlyStopping : ITrainingCallback, ICheckpointState
{
    private readonly EarlyStoppingOptions _options;
    private readonly MetricMonitor _monitor;
    private Dictionary<string, Tensor>? _bestWeights;

    /// <summary>Creates the callback.</summary>
    public EarlyStopping(EarlyStoppingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _monitor = new MetricMonitor(options.Monitor, options.Mode, options.MinDelta);
    }

    /// <summary>The epoch with the best monitored value, or -1.</summary>
    public int BestEpoch => _monitor.BestEpoch;

    /// <summary>The best monitored value so far.</summary>
    public double BestValue => _monitor.Best;

    string ICheckpointState.StateKey => "early_stopping";

    /// <inheritdoc />
    public void OnEpochEnd(TrainingSession session, int epoch, TrainingLogs logs)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_monitor.Observe(epoch, logs))
        {
            if (_options.RestoreBestWeights)
            {
                ReplaceBest(Snapshot(session.Model));
            }
        }
        else if (_monitor.EpochsWithoutImprovement >= Math.Max(1, _options.Patience))
        {
            session.StopTraining = true;
            session.History.StoppedEarly = true;
        }
    }

    /// <inheritdoc />
    public void OnTrainEnd(TrainingSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_bestWeights is null)
        {
            return;
        }

        if (_monitor.BestEpoch != session.History.Epochs.Count - 1)
        {
            using (no_grad())
            {
                foreach (var (name, value) in session.Model.state_dict())
                {
                    value.copy_(_bestWeights[name]);
                }
            }

            session.History.RestoredEpoch = _monitor.BestEpoch;
        }

        ReplaceBest(null);
    }

    void ICheckpointState.Save(CheckpointContents contents)
    {
        contents.CallbackJson["early_stopping"] = JsonSerializer.Serialize(_monitor.GetState(), CheckpointFile.JsonOptions);
        if (_bestWeights is not null)
        {
            contents.CallbackTensors["early_stopping"] = _bestWeights;
        }
    }

    void ICheckpointState.Restore(CheckpointContents contents)
    {
        if (contents.CallbackJson.TryGetValue("early_stopping", out var json))
        {
            var state = JsonSerializer.Deserialize<MetricMonitor.MonitorState>(json, CheckpointFile.JsonOptions);
            if (state is not null)
            {
                _monitor.SetState(state);
            }
        }

        if (contents.CallbackTensors.Remove("early_stopping", out var weights))
        {
            ReplaceBest(weights);
        }
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in model.state_dict())
        {
            copy[name] = value.detach().clone().DetachFromDisposeScope();
        }

        return copy;
    }

    private void ReplaceBest(Dictionary<string, Tensor>? weights)
    {
        if (_bestWeights is not null && !ReferenceEquals(_bestWeights, weights))
        {
            foreach (var t in _bestWeights.Values)
            {
                t.Dispose();
            }
        }

        _bestWeights = weights;
    }
}
