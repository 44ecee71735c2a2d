using System.Globalization;
using System.Text.Json;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

// Usage: TrainingChild <adversarial|steps> <checkpoint-dir> <output.json> [--resume <checkpoint>] [--hang-after <step>]
// Trains 40 steps with a checkpoint every 10, writes the final weights and the history as JSON.
// With --hang-after N it prints "READY" after step N and waits to be killed.
string mode = args[0];
string directory = args[1];
string output = args[2];
string? resume = Option("--resume");
long hangAfter = Option("--hang-after") is { } h ? long.Parse(h, CultureInfo.InvariantCulture) : -1;

set_num_threads(1);
var options = new TrainingOptions
{
    Seed = 11,
    MaxSteps = 40,
    Checkpoints = new CheckpointOptions { Directory = directory, EveryEpochs = 0, EverySteps = 10 },
    ResumeFromCheckpoint = resume,
};
var result = mode switch
{
    "adversarial" => ToyLoops.Adversarial(options, hangAfter),
    "steps" => ToyLoops.StepDriven(options, hangAfter),
    _ => throw new ArgumentException($"unknown mode {mode}"),
};
File.WriteAllText(output, JsonSerializer.Serialize(result));
return 0;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>What a child run reports: every weight's bits and the logs of every period.</summary>
internal sealed record ChildResult(Dictionary<string, int[]> WeightBits, List<Dictionary<string, double>> History, long Steps);

internal static class ToyLoops
{
    /// <summary>
    /// A generator (noise 4 → 2) and a discriminator (2 → 1) trained adversarially on samples of a
    /// shifted Gaussian, with two optimizers on two schedules and a registered sampler state.
    /// </summary>
    public static ChildResult Adversarial(TrainingOptions options, long hangAfter)
    {
        var run = new TrainingRun(options);
        TrainingRun.SeedForInitialisation(run.Seed);
        var generator = run.AddModule("generator", nn.Sequential(("layer0", nn.Linear(4, 8)), ("layer1", nn.Tanh()), ("output", nn.Linear(8, 2))));
        var discriminator = run.AddModule("discriminator", nn.Sequential(("layer0", nn.Linear(2, 8)), ("layer1", nn.LeakyReLU(0.2)), ("output", nn.Linear(8, 1))));
        var gOptimizer = run.CreateOptimizer("generator", generator, new OptimizerOptions { LearningRate = 2e-3, Beta1 = 0.5 }, new CosineSchedule(0.1));
        var dOptimizer = run.CreateOptimizer("discriminator", discriminator, new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.05, Momentum = 0.9 }, new StepDecaySchedule(2, 0.5));
        var sampler = new SamplerPosition();
        run.AddState(sampler);
        var period = new PeriodMeans();
        run.AddState(period);
        run.Start();
        while (!run.ShouldStop)
        {
            using var scope = NewDisposeScope();
            run.BeginStep();
            var real = randn(16, 2) + tensor(new[] { 2f, -1f }) + (0.01f * sampler.Next());
            var fake = generator.forward(randn(16, 4));

            dOptimizer.zero_grad();
            var dLoss = nn.functional.binary_cross_entropy_with_logits(discriminator.forward(real), ones(16, 1))
                + nn.functional.binary_cross_entropy_with_logits(discriminator.forward(fake.detach()), zeros(16, 1));
            dLoss.backward();
            dOptimizer.step();

            gOptimizer.zero_grad();
            var gLoss = nn.functional.binary_cross_entropy_with_logits(discriminator.forward(fake), ones(16, 1));
            gLoss.backward();
            gOptimizer.step();

            var logs = new TrainingLogs { ["d_loss"] = dLoss.item<float>(), ["g_loss"] = gLoss.item<float>() };
            period.Add(logs);
            run.EndStep(logs);
            EndPeriodEvery(run, period, 5);
            Hang(run, hangAfter);
        }

        run.Finish();
        return Report(run);
    }

    /// <summary>A step-driven loop with no data source: a value network fitted to targets drawn into a growing replay buffer.</summary>
    public static ChildResult StepDriven(TrainingOptions options, long hangAfter)
    {
        var run = new TrainingRun(options);
        TrainingRun.SeedForInitialisation(run.Seed);
        var network = run.AddModule("value", nn.Sequential(("layer0", nn.Linear(3, 16)), ("layer1", nn.ReLU()), ("layer2", nn.Dropout(0.1)), ("output", nn.Linear(16, 1))));
        var optimizer = run.CreateOptimizer("value", network, new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 5e-3, WeightDecay = 0.01 });
        var buffer = new ReplayBuffer();
        run.AddState(buffer);
        var period = new PeriodMeans();
        run.AddState(period);
        run.Start();
        while (!run.ShouldStop)
        {
            using var scope = NewDisposeScope();
            run.BeginStep();
            run.SetTraining(true);
            var observation = rand(3);
            buffer.Add(observation.data<float>().ToArray(), (float)Math.Sin(observation.sum().item<float>()));
            var (inputs, targets) = buffer.Sample(8);
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(network.forward(inputs).view(-1), targets);
            loss.backward();
            optimizer.step();

            var logs = new TrainingLogs { ["loss"] = loss.item<float>() };
            period.Add(logs);
            run.EndStep(logs);
            EndPeriodEvery(run, period, 10);
            Hang(run, hangAfter);
        }

        run.Finish();
        return Report(run);
    }

    private static void EndPeriodEvery(TrainingRun run, PeriodMeans period, int steps)
    {
        if (run.Step % steps == 0)
        {
            run.EndEpoch(period.TakeMeans());
        }
    }

    private static void Hang(TrainingRun run, long hangAfter)
    {
        if (run.Step == hangAfter)
        {
            Console.WriteLine("READY");
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
        }
    }

    private static ChildResult Report(TrainingRun run)
    {
        var bits = new Dictionary<string, int[]>();
        foreach (var (name, module) in run.Modules)
        {
            foreach (var (parameter, value) in module.state_dict())
            {
                bits[$"{name}/{parameter}"] = value.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
            }
        }

        return new ChildResult(bits, run.History.Epochs.Select(e => new Dictionary<string, double>(e)).ToList(), run.Step);
    }
}

/// <summary>A position in a deterministic stream of its own, as a data sampler would keep.</summary>
internal sealed class SamplerPosition : ICheckpointState
{
    private long _position;

    public string StateKey => "sampler";

    public float Next() => (float)Math.Sin(++_position * 0.7);

    public void SaveState(BinaryWriter writer) => writer.Write(_position);

    public void LoadState(BinaryReader reader) => _position = reader.ReadInt64();
}

/// <summary>Means of the step logs since the last period end.</summary>
internal sealed class PeriodMeans : ICheckpointState
{
    private readonly Dictionary<string, (double Sum, int Count)> _sums = [];

    public string StateKey => "period";

    public void Add(TrainingLogs logs)
    {
        foreach (var (name, value) in logs)
        {
            var (sum, count) = _sums.GetValueOrDefault(name);
            _sums[name] = (sum + value, count + 1);
        }
    }

    public TrainingLogs TakeMeans()
    {
        var logs = new TrainingLogs();
        foreach (var (name, (sum, count)) in _sums)
        {
            logs[name] = sum / count;
        }

        _sums.Clear();
        return logs;
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_sums.Count);
        foreach (var (name, (sum, count)) in _sums)
        {
            writer.Write(name);
            writer.Write(sum);
            writer.Write(count);
        }
    }

    public void LoadState(BinaryReader reader)
    {
        _sums.Clear();
        for (int i = reader.ReadInt32(); i > 0; i--)
        {
            _sums[reader.ReadString()] = (reader.ReadDouble(), reader.ReadInt32());
        }
    }
}

/// <summary>A growing buffer of (observation, target) pairs sampled with libtorch's generator.</summary>
internal sealed class ReplayBuffer : ICheckpointState
{
    private readonly List<float[]> _observations = [];
    private readonly List<float> _targets = [];

    public string StateKey => "replay_buffer";

    public void Add(float[] observation, float target)
    {
        _observations.Add(observation);
        _targets.Add(target);
    }

    public (Tensor Inputs, Tensor Targets) Sample(int count)
    {
        var picks = randint(_targets.Count, [count]).data<long>().ToArray();
        var inputs = tensor(picks.SelectMany(i => _observations[(int)i]).ToArray(), [count, _observations[0].Length]);
        return (inputs, tensor(picks.Select(i => _targets[(int)i]).ToArray()));
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_targets.Count);
        for (int i = 0; i < _targets.Count; i++)
        {
            writer.Write(_observations[i].Length);
            foreach (var v in _observations[i])
            {
                writer.Write(v);
            }

            writer.Write(_targets[i]);
        }
    }

    public void LoadState(BinaryReader reader)
    {
        _observations.Clear();
        _targets.Clear();
        for (int n = reader.ReadInt32(); n > 0; n--)
        {
            var observation = new float[reader.ReadInt32()];
            for (int j = 0; j < observation.Length; j++)
            {
                observation[j] = reader.ReadSingle();
            }

            _observations.Add(observation);
            _targets.Add(reader.ReadSingle());
        }
    }
}
