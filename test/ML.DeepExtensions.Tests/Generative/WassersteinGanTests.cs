using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Generative;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Generative;

[TestClass]
public sealed class WassersteinGanTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TheGradientPenaltyOfALinearCriticIsItsNormMinusOneSquaredAndItsGradientReachesTheWeights()
    {
        using var scope = NewDisposeScope();
        // D(x) = 3·x₀ + 4·x₁: its input gradient is (3, 4, 0, 0) everywhere, ‖·‖ = 5, penalty (5 − 1)² = 16.
        var linear = nn.Linear(4, 1);
        using (no_grad())
        {
            linear.weight!.copy_(tensor(new float[] { 3, 4, 0, 0 }).reshape(1, 4));
            linear.bias!.zero_();
        }

        var critic = nn.Sequential(nn.Flatten(), linear);
        var real = randn(6, 1, 2, 2);
        var fake = randn(6, 1, 2, 2);
        var penalty = AdversarialLoop.GradientPenalty(critic, real, fake);
        Assert.AreEqual(16.0, penalty.item<float>(), 1e-4);

        // d/dw (‖w‖ − 1)² = 2(‖w‖ − 1)·w/‖w‖ = (4.8, 6.4, 0, 0): only a second-order backward pass gives it.
        penalty.backward();
        var gradient = linear.weight!.grad!.reshape(4).data<float>().ToArray();
        CollectionAssert.AreEqual(new[] { 4.8f, 6.4f, 0f, 0f }, gradient.Select(g => MathF.Round(g, 3)).ToArray());
    }

    [TestMethod]
    public void AWganGpLearnsTheThreeKindsOfTinyImages()
    {
        var context = new MLContext(seed: 1);
        var rows = GanFixtures.Rows(96);
        var data = context.Data.LoadFromEnumerable(rows);
        var paper = new OptimizerOptions { LearningRate = 1e-3, Beta1 = 0.0, Beta2 = 0.9 };
        using var model = context.Transforms.ImageGan(new ImageGanOptions
        {
            NoiseSize = 8, BaseFilters = 8, Epochs = 16, Seed = 4, Data = { BatchSize = 16 }, IntraOpThreads = 1,
            Loss = GanLoss.WassersteinGradientPenalty, DiscriminatorSteps = 2, SpectralNormalization = false, EmaDecay = 0,
            Optimizer = paper, GeneratorOptimizer = paper,
        }).Fit(data);

        // An untrained generator's tanh output is near 0, i.e. mid-grey images: the distance to beat.
        var grey = Enumerable.Repeat(Enumerable.Repeat(127.5f, 64).ToArray(), 32).ToArray();
        double before = NearestRealDistance(grey, rows);
        double after = NearestRealDistance(model.Sample(32, seed: 9).GetColumn<float[]>("GeneratedImage").ToArray(), rows);
        var critic = model.History["d_loss"];
        TestContext.WriteLine($"mean |image − nearest real| per pixel: mid-grey {before:F1}, generated after 16 epochs {after:F1}");
        TestContext.WriteLine("d_loss per epoch: " + string.Join(", ", critic.Select(d => d.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.IsLessThan(0.75 * before, after, "the generator moved towards the training images");
        Assert.IsLessThan(0.0, critic[^1], "the critic's Wasserstein estimate −d_loss is positive: it tells real from generated");
        Assert.IsLessThan(critic[0], critic[^1]);
    }

    /// <summary>Mean absolute pixel difference between each image and its nearest training image.</summary>
    private static double NearestRealDistance(float[][] images, GanFixtures.ImageRow[] real) =>
        images.Average(g => real.Min(r => r.Features.Zip(g, (a, b) => Math.Abs(a - b)).Average()));
}
