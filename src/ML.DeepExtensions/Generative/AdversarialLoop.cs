using System.Globalization;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// The alternating updates of a GAN on one <see cref="TrainingRun"/>: per step, the discriminator on
/// a real batch and a generated one, then the generator through the discriminator, then the moving
/// average. Every step runs in its own dispose scope; the noise and fake classes come from libtorch's
/// generator, which the run reseeds every epoch, so the run is reproducible and resumable. The loop's
/// place inside the epoch is checkpoint state, so a step checkpoint resumes mid-epoch: the epoch's
/// batches already trained on are skipped and the random state of the checkpoint is put back.
/// </summary>
internal sealed class AdversarialLoop(
    ImageGanOptions options, TrainingRun run, nn.Module<Tensor, Tensor> generator, nn.Module<Tensor, Tensor> discriminator,
    nn.Module<Tensor, Tensor> average, optim.Optimizer discriminatorOptimizer, optim.Optimizer generatorOptimizer, int classes, IChannel channel)
    : ICheckpointState
{
    public const string DiscriminatorLoss = "d_loss";
    public const string GeneratorLoss = "g_loss";

    private long _stepsInEpoch;
    private double _discriminatorSum;
    private double _generatorSum;

    public string StateKey => "gan_epoch_position";

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_stepsInEpoch);
        writer.Write(_discriminatorSum);
        writer.Write(_generatorSum);
    }

    public void LoadState(BinaryReader reader)
    {
        _stepsInEpoch = reader.ReadInt64();
        _discriminatorSum = reader.ReadDouble();
        _generatorSum = reader.ReadDouble();
    }

    public void Train(DataViewBatchSource source, long[] imageShape, string[]? classNames)
    {
        run.StepsPerEpoch = source.BatchesPerEpoch ?? 0;
        run.AddState(this);
        run.Start();
        var token = options.CancellationToken;
        var logs = new TrainingLogs();

        // Resumed from a step checkpoint inside an epoch: BeginEpoch reseeds libtorch for the epoch's
        // start, so the checkpoint's random state is put back after it.
        using var resumedRandomState = _stepsInEpoch > 0 ? random.get_rng_state() : null;
        while (!run.ShouldStop)
        {
            run.BeginEpoch();
            long skip = 0;
            if (_stepsInEpoch > 0 && resumedRandomState is not null)
            {
                random.set_rng_state(resumedRandomState);
                skip = _stepsInEpoch;
            }
            else
            {
                _stepsInEpoch = 0;
                _discriminatorSum = 0;
                _generatorSum = 0;
            }

            using (var batches = source.GetBatches(run.Epoch, token).GetEnumerator())
            {
                for (long i = 0; i < skip; i++)
                {
                    using var skipScope = NewDisposeScope();
                    if (!batches.MoveNext())
                    {
                        throw new InvalidOperationException(
                            $"The checkpoint was written after {skip} steps of epoch {run.Epoch + 1}, but the data now gives only {i} batches in it: resume on the same data.");
                    }
                }

                // A callback's StopTraining (a time budget) ends the epoch after the current step.
                while (!(options.MaxSteps is long max && run.Step >= max) && !run.StopTraining)
                {
                    token.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    if (!batches.MoveNext())
                    {
                        break;
                    }

                    run.BeginStep();
                    var (d, g) = Step(batches.Current);
                    logs.Clear();
                    logs[DiscriminatorLoss] = d;
                    logs[GeneratorLoss] = g;
                    _discriminatorSum += d;
                    _generatorSum += g;
                    _stepsInEpoch++;
                    run.EndStep(logs);
                }
            }

            if (_stepsInEpoch == 0)
            {
                throw new ArgumentException(
                    $"Epoch {run.Epoch + 1} had no full batch of {options.Data.BatchSize} images: the data has fewer rows than a batch. "
                    + "Lower Data.BatchSize or set Data.DropLastPartialBatch = false.");
            }

            var epochLogs = new TrainingLogs { [DiscriminatorLoss] = _discriminatorSum / _stepsInEpoch, [GeneratorLoss] = _generatorSum / _stepsInEpoch };
            _stepsInEpoch = 0;
            _discriminatorSum = 0;
            _generatorSum = 0;
            run.EndEpoch(epochLogs);
            if (options.SampleGrid is { } grid && run.Epoch % grid.EveryEpochs == 0)
            {
                string path = Path.Combine(grid.Directory, string.Create(CultureInfo.InvariantCulture, $"samples-epoch-{run.Epoch:D4}.png"));
                SampleGridWriter.Write(path, average, options, imageShape, classNames, run.Seed, run.Device);
                channel.Info(MessageSensitivity.None, $"ImageGan: wrote {path}");
            }
        }

        run.Finish();
    }

    private (double Discriminator, double Generator) Step(TensorBatch batch)
    {
        var device = run.Device;
        var real = (batch.Features.to(device) * (2.0 / options.PixelScale)) - 1.0;
        var labels = classes > 0 ? batch.Label.to(device) : null;
        long n = real.shape[0];

        Tensor discriminatorLoss = null!;
        for (int i = 0; i < options.DiscriminatorSteps; i++)
        {
            using var inner = NewDisposeScope();
            Tensor fake;
            using (no_grad())
            {
                fake = generator.forward(GeneratorInput(n, device, out _)).detach();
            }

            var realOutput = discriminator.forward(real);
            var fakeOutput = discriminator.forward(fake);
            var loss = DiscriminatorAdversarial(realOutput.select(1, 0), fakeOutput.select(1, 0));
            if (options.Loss == GanLoss.WassersteinGradientPenalty)
            {
                loss += options.GradientPenaltyWeight * GradientPenalty(discriminator, real, fake);
            }

            if (labels is not null && options.ClassificationWeight > 0)
            {
                loss += options.ClassificationWeight * nn.functional.cross_entropy(realOutput.narrow(1, 1, classes), labels);
            }

            discriminatorOptimizer.zero_grad();
            loss.backward();
            Clip(discriminator);
            discriminatorOptimizer.step();
            discriminatorLoss = loss.detach().MoveToOuterDisposeScope();
        }

        var generated = generator.forward(GeneratorInput(n, device, out var fakeLabels));
        var output = discriminator.forward(generated);
        var generatorLoss = GeneratorAdversarial(output.select(1, 0));
        if (fakeLabels is not null && options.ClassificationWeight > 0)
        {
            generatorLoss += options.ClassificationWeight * nn.functional.cross_entropy(output.narrow(1, 1, classes), fakeLabels);
        }

        generatorOptimizer.zero_grad();
        generatorLoss.backward();
        Clip(generator);
        generatorOptimizer.step();
        GeneratorAverage.Update(generator, average, EffectiveDecay(run.Step));
        return (discriminatorLoss.item<float>(), generatorLoss.item<float>());
    }

    /// <summary>Noise [N, Z], and for a conditional generator a random class per row as a last column.</summary>
    private Tensor GeneratorInput(long n, Device device, out Tensor? fakeLabels)
    {
        var noise = randn(n, options.NoiseSize, device: device);
        if (classes == 0)
        {
            fakeLabels = null;
            return noise;
        }

        fakeLabels = randint(classes, [n], dtype: ScalarType.Int64, device: device);
        return cat([noise, fakeLabels.to(ScalarType.Float32).unsqueeze(1)], 1);
    }

    /// <summary>
    /// WGAN-GP's penalty: the mean of (‖∇ₓD(x̂)‖₂ − 1)² over points x̂ = εx + (1 − ε)G(z), ε uniform per
    /// image. The gradient is taken with create_graph so that the penalty's own gradient reaches the
    /// critic's weights (a second-order backward pass).
    /// </summary>
    internal static Tensor GradientPenalty(nn.Module<Tensor, Tensor> critic, Tensor real, Tensor fake)
    {
        long n = real.shape[0];
        long[] perImage = [n, .. Enumerable.Repeat(1L, (int)real.dim() - 1)];
        var epsilon = rand(perImage, device: real.device);
        var mixed = ((epsilon * real.detach()) + ((1 - epsilon) * fake.detach())).requires_grad_(true);
        var score = critic.forward(mixed).select(1, 0);
        var gradient = autograd.grad([score], [mixed], [ones_like(score)], retain_graph: true, create_graph: true)[0];
        return (gradient.reshape(n, -1).norm(1) - 1).pow(2).mean();
    }

    private Tensor DiscriminatorAdversarial(Tensor real, Tensor fake) => options.Loss switch
    {
        GanLoss.Hinge => nn.functional.relu(1.0 - real).mean() + nn.functional.relu(1.0 + fake).mean(),
        GanLoss.WassersteinGradientPenalty => fake.mean() - real.mean(),
        _ => nn.functional.softplus(-real).mean() + nn.functional.softplus(fake).mean(),
    };

    private Tensor GeneratorAdversarial(Tensor fake) => options.Loss switch
    {
        GanLoss.Hinge or GanLoss.WassersteinGradientPenalty => -fake.mean(),
        _ => nn.functional.softplus(-fake).mean(),
    };

    private void Clip(nn.Module module)
    {
        if (options.GradientClipNorm is double maxNorm)
        {
            nn.utils.clip_grad_norm_(module.parameters(), maxNorm);
        }
    }

    /// <summary>The average warms up: early on, when the generator changes fast, it follows more closely.</summary>
    private double EffectiveDecay(long step) => Math.Min(options.EmaDecay, (1.0 + step) / (10.0 + step));
}

/// <summary>The exponential moving average of a generator's weights (its buffers are copied as they are).</summary>
internal static class GeneratorAverage
{
    public static void CopyInto(nn.Module source, nn.Module target) => Update(source, target, 0);

    public static void Update(nn.Module source, nn.Module target, double decay)
    {
        using var noGrad = no_grad();
        foreach (var (to, from) in target.parameters().Zip(source.parameters()))
        {
            if (decay == 0)
            {
                to.copy_(from);
            }
            else
            {
                to.mul_(decay).add_(from, alpha: 1 - decay);
            }
        }

        foreach (var (to, from) in target.buffers().Zip(source.buffers()))
        {
            to.copy_(from);
        }
    }
}
