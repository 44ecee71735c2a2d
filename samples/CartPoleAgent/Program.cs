// Trains a DQN agent on CartPole-v1 with rl-baselines3-zoo's preset, saves the greedy policy as an
// ML.NET model, loads it back in a fresh MLContext and plays a few episodes with it.
// Usage: dotnet run -c Release --project samples/CartPoleAgent [-- STEPS]   (default 20,000 steps)
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;
using ML.DeepExtensions.Training;

long steps = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var options = new DqnOptions(DqnPreset.CartPole)
{
    MaxSteps = steps,
    Seed = 1,
    EvaluationFrequency = 2_500,
    RewardThreshold = 475,      // Gymnasium's threshold for CartPole-v1: stop once an evaluation reaches it
    IntraOpThreads = 1,         // small MLPs train fastest on one thread
    Progress = new Progress<TrainingProgress>(p => Console.WriteLine(
        string.Create(CultureInfo.InvariantCulture, $"step {p.Logs["step"],6}: evaluation return {p.Logs["eval_return"],6:F1}, epsilon {p.Logs["epsilon"]:F2}"))),
};

DiscretePolicy policy = new DqnAgent(options).Train(ClassicControl.CartPole);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"best evaluation {policy.BestEvaluationReturn:F1} at step {policy.BestEvaluationStep}; threshold reached at {policy.StepsToThreshold?.ToString(CultureInfo.InvariantCulture) ?? "never"}"));
policy.History.SaveCsv("cartpole-learning-curve.csv");

// The policy as an ordinary ML.NET model: Observation (Vector<Single, 4>) in; ActionValues and PredictedLabel out.
var mlContext = new MLContext(seed: 1);
string path = Path.GetFullPath("cartpole-policy.zip");
using (PolicyModel model = policy.CreateModel())     // dispose it: it owns a temp copy of the ONNX graph
{
    mlContext.Model.Save(model, policy.InputSchema(), path);
}

Console.WriteLine($"saved {path}");

// What a program without this library does: load the zip and act from its PredictedLabel key.
var loaded = new MLContext().Model.Load(path, out _);
using var engine = mlContext.Model.CreatePredictionEngine<ObservationRow, ActionRow>(loaded, new PredictionEngineOptions { OwnsTransformer = false });
var environment = ClassicControl.CartPole();
for (int episode = 0; episode < 5; episode++)
{
    float[] observation = environment.Reset(seed: 100 + episode).Observation;
    double total = 0;
    while (true)
    {
        int action = (int)engine.Predict(new ObservationRow { Observation = observation }).PredictedLabel - 1;
        StepResult step = environment.Step(action);
        total += step.Reward;
        observation = step.Observation;
        if (step.Done)
        {
            break;
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"episode {episode}: return {total} with the loaded model (the agent itself: {policy.Evaluate(ClassicControl.CartPole(), 1, 100 + episode)[0]})"));
}

(loaded as IDisposable)?.Dispose();

/// <summary>The model's input row.</summary>
internal sealed class ObservationRow
{
    [VectorType(4)]
    public float[] Observation { get; set; } = [];
}

/// <summary>The model's outputs the sample reads.</summary>
internal sealed class ActionRow
{
    public uint PredictedLabel { get; set; }

    public float[] ActionValues { get; set; } = [];
}
