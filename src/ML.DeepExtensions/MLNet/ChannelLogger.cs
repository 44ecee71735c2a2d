using Microsoft.ML.Runtime;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.MLNet;

/// <summary>Writes one line per epoch to an ML.NET channel, so progress shows in <c>MLContext.Log</c>.</summary>
internal sealed class ChannelLogger(IChannel channel, string component) : ITrainingCallback
{
    public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs) =>
        channel.Info(MessageSensitivity.None, $"{component}: epoch {epoch + 1}/{run.Options.Epochs} {logs}");

    public void OnTrainEnd(TrainingRun run)
    {
        if (run.History.StoppedEarly)
        {
            channel.Info(MessageSensitivity.None, $"{component}: stopped early after epoch {run.History.Epochs.Count}.");
        }

        if (run.History.RestoredEpoch is int restored)
        {
            channel.Info(MessageSensitivity.None, $"{component}: restored the weights of epoch {restored + 1}.");
        }
    }
}
