using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>The library's optimizers take the same steps as TorchSharp's, bit for bit, and save the same state.</summary>
[TestClass]
public sealed class KeepAliveOptimizersTests
{
    [TestMethod]
    [DataRow("adam", 0.0)]
    [DataRow("adam", 0.01)]
    [DataRow("adamw", 0.0)]
    [DataRow("adamw", 0.05)]
    [DataRow("sgd", 0.0)]
    [DataRow("sgd-momentum", 0.01)]
    [DataRow("sgd-nesterov", 0.01)]
    [DataRow("rmsprop", 0.0)]
    [DataRow("rmsprop-momentum", 0.01)]
    public void StepsEqualTorchSharpsBitForBit(string kind, double weightDecay)
    {
        var (ours, oursOptimizer) = Build(weightDecay, kind, keepAlive: true);
        var (theirs, theirsOptimizer) = Build(weightDecay, kind, keepAlive: false);
        for (int step = 0; step < 6; step++)
        {
            Step(ours, oursOptimizer, step);
            Step(theirs, theirsOptimizer, step);
        }

        var a = ours.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        var b = theirs.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        CollectionAssert.AreEqual(b, a);
        Assert.IsTrue(a.Zip(Initial(), (x, y) => x != y).All(changed => changed), "every weight moved (the test can fail)");
        CollectionAssert.AreEqual(StateBytes(theirsOptimizer), StateBytes(oursOptimizer), "the saved states are the same bytes, type name included, so checkpoints load either way");
    }

    [TestMethod]
    public void AdamStepsSurviveGarbageCollectionsDuringTheirNativeCalls()
    {
        // Under this load TorchSharp's own Adam failed with "Expected false to be true" after 4,684 and
        // 7,684 steps in two runs on the development machine (a scalar freed by the finalizer mid-call).
        using var layer = nn.Linear(64, 64);
        var parameters = layer.parameters().ToList();
        using var optimizer = new KeepAliveOptimizers.Adam(parameters, 1e-3, 0.9, 0.999, 1e-8, 0.01);
        foreach (var p in parameters)
        {
            p.grad = ones_like(p);
        }

        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            for (int step = 0; step < 20_000; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.step();
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }

        Assert.IsTrue(parameters.All(p => p.isfinite().all().item<bool>()));
    }

    [TestMethod]
    public void TheTrainersOptimizersAreTheKeepAliveOnes()
    {
        using var layer = nn.Linear(2, 1);
        Assert.IsInstanceOfType<KeepAliveOptimizers.Adam>(new ML.DeepExtensions.Training.OptimizerOptions { Kind = OptimizerKind.Adam }.Create(layer.parameters()));
        Assert.IsInstanceOfType<KeepAliveOptimizers.AdamW>(new ML.DeepExtensions.Training.OptimizerOptions { Kind = OptimizerKind.AdamW }.Create(layer.parameters()));
        Assert.IsInstanceOfType<KeepAliveOptimizers.SGD>(new ML.DeepExtensions.Training.OptimizerOptions { Kind = OptimizerKind.Sgd }.Create(layer.parameters()));
        Assert.IsInstanceOfType<KeepAliveOptimizers.RMSProp>(new ML.DeepExtensions.Training.OptimizerOptions { Kind = OptimizerKind.RmsProp }.Create(layer.parameters()));
    }

    private static float[] Initial()
    {
        var (module, _) = Build(0, "adam", keepAlive: true);
        return [.. module.parameters().SelectMany(p => p.data<float>().ToArray())];
    }

    private static (nn.Module<Tensor, Tensor> Module, optim.Optimizer Optimizer) Build(double weightDecay, string kind, bool keepAlive)
    {
        manual_seed(3);
        var module = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2));
        var parameters = module.parameters().ToList();
        optim.Optimizer optimizer = (kind, keepAlive) switch
        {
            ("adam", true) => new KeepAliveOptimizers.Adam(parameters, 0.05, 0.9, 0.99, 1e-8, weightDecay),
            ("adam", false) => optim.Adam(parameters, 0.05, 0.9, 0.99, 1e-8, weightDecay),
            ("adamw", true) => new KeepAliveOptimizers.AdamW(parameters, 0.05, 0.9, 0.99, 1e-8, weightDecay),
            ("adamw", false) => optim.AdamW(parameters, 0.05, 0.9, 0.99, 1e-8, weightDecay),
            ("sgd", true) => new KeepAliveOptimizers.SGD(parameters, 0.05, 0, 0, weightDecay, false),
            ("sgd", false) => optim.SGD(parameters, 0.05, 0, 0, weightDecay, false),
            ("sgd-momentum", true) => new KeepAliveOptimizers.SGD(parameters, 0.05, 0.9, 0.1, weightDecay, false),
            ("sgd-momentum", false) => optim.SGD(parameters, 0.05, 0.9, 0.1, weightDecay, false),
            ("sgd-nesterov", true) => new KeepAliveOptimizers.SGD(parameters, 0.05, 0.9, 0, weightDecay, true),
            ("sgd-nesterov", false) => optim.SGD(parameters, 0.05, 0.9, 0, weightDecay, true),
            ("rmsprop", true) => new KeepAliveOptimizers.RMSProp(parameters, 0.01, 0.99, 1e-8, weightDecay, 0),
            ("rmsprop", false) => optim.RMSProp(parameters, 0.01, 0.99, 1e-8, weightDecay, 0),
            ("rmsprop-momentum", true) => new KeepAliveOptimizers.RMSProp(parameters, 0.01, 0.99, 1e-8, weightDecay, 0.5),
            ("rmsprop-momentum", false) => optim.RMSProp(parameters, 0.01, 0.99, 1e-8, weightDecay, 0.5),
            _ => throw new ArgumentException(kind),
        };
        return (module, optimizer);
    }

    private static void Step(nn.Module<Tensor, Tensor> module, optim.Optimizer optimizer, int step)
    {
        using var scope = NewDisposeScope();
        manual_seed(100 + step);
        var x = randn(8, 4);
        optimizer.zero_grad();
        module.forward(x).pow(2).sum().backward();
        optimizer.step();
    }

    private static byte[] StateBytes(optim.Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            ((OptimizerHelper)optimizer).save_state_dict(writer);
        }

        return stream.ToArray();
    }
}
