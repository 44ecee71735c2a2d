using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>Builds a small seeded classifier and its supervised step.</summary>
internal static class EngineFixture
{
    public const int Features = 6;
    public const int Classes = 3;

    public static SupervisedTrainStep CreateStep(TrainingOptions options, int seed)
    {
        TrainingRun.SeedForInitialisation(seed);
        var network = nn.Sequential(
            ("fc1", nn.Linear(Features, 16)),
            ("relu", nn.ReLU()),
            ("drop", nn.Dropout(0.1)),
            ("fc2", nn.Linear(16, Classes)));
        var loss = nn.CrossEntropyLoss();
        return new SupervisedTrainStep(
            network,
            (output, label) => loss.forward(output, label),
            options.Optimizer.Create(network.parameters()),
            () => [new AccuracyMetric()],
            CPU,
            options.GradientClipNorm);
    }

    public static float[] Weights(ITrainStep step) =>
        step.Model.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    public static (TrainingHistory History, float[] Weights) Train(TrainingOptions options, int seed = 7, InMemoryBatchSource? validation = null)
    {
        var step = CreateStep(options, seed);
        var history = TrainingEngine.Fit(new TrainingRun(options, seed), step, InMemoryBatchSource.Blobs(96, Classes, Features, 16), validation);
        return (history, Weights(step));
    }
}
