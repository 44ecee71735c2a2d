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
    public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (_monitor.Observe(epoch, logs))
        {
            if (_options.RestoreBestWeights)
            {
                ReplaceBest(Snapshot(run));
            }
        }
        else if (_monitor.EpochsWithoutImprovement >= Math.Max(1, _options.Patience))
        {
            run.StopTraining = true;
            run.History.StoppedEarly = true;
        }
    }

    /// <inheritdoc />
    public void OnTrainEnd(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (_bestWeights is null)
        {
            return;
        }

        if (_monitor.BestEpoch != run.History.Epochs.Count - 1)
        {
            using (no_grad())
            {
                foreach (var (module, name, value) in NamedState(run))
                {
                    value.copy_(_bestWeights[Key(module, name)]);
                }
            }

            run.History.RestoredEpoch = _monitor.BestEpoch;
        }

        ReplaceBest(null);
    }

    void ICheckpointState.SaveState(BinaryWriter writer)
    {
        writer.Write(JsonSerializer.Serialize(_monitor.GetState(), CheckpointFile.JsonOptions));
        writer.Write(_bestWeights is not null);
        if (_bestWeights is not null)
        {
            CheckpointTensors.Write(writer, _bestWeights);
        }
    }

    void ICheckpointState.LoadState(BinaryReader reader)
    {
        var state = JsonSerializer.Deserialize<MetricMonitor.MonitorState>(reader.ReadString(), CheckpointFile.JsonOptions);
        if (state is not null)
        {
            _monitor.SetState(state);
        }

        ReplaceBest(reader.ReadBoolean() ? CheckpointTensors.Read(reader) : null);
    }

    private static IEnumerable<(string Module, string Name, Tensor Value)> NamedState(TrainingRun run) =>
        run.Modules.SelectMany(m => m.Module.state_dict().Select(kv => (m.Name, kv.Key, kv.Value)));

    private static string Key(string module, string name) => module + "/" + name;

    private static Dictionary<string, Tensor> Snapshot(TrainingRun run)
    {
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (module, name, value) in NamedState(run))
        {
            copy[Key(module, name)] = value.detach().clone().DetachFromDisposeScope();
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
