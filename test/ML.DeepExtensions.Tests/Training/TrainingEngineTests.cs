using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

[TestClass]
public sealed class TrainingEngineTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(OptimizerKind.Sgd, 0.1, 0.9, true)]
    [DataRow(OptimizerKind.Sgd, 0.1, 0.0, false)]
    [DataRow(OptimizerKind.Adam, 0.01, 0.0, false)]
    [DataRow(OptimizerKind.AdamW, 0.01, 0.0, false)]
    [DataRow(OptimizerKind.RmsProp, 0.01, 0.0, false)]
    public void EveryOptimizerLearnsSeparableData(OptimizerKind kind, double learningRate, double momentum, bool nesterov)
    {
        var options = new TrainingOptions
        {
            Epochs = 15,
            Optimizer = new OptimizerOptions { Kind = kind, LearningRate = learningRate, Momentum = momentum, Nesterov = nesterov, WeightDecay = 1e-4 },
        };

        var (history, _) = EngineFixture.Train(options);

        Assert.AreEqual(15, history.Epochs.Count);
        Assert.IsLessThan(history["loss"][0] * 0.5, history["loss"][^1], $"loss did not fall enough: {string.Join(", ", history["loss"])}");
        Assert.IsGreaterThan(0.9, history["accuracy"][^1]);
    }

    [TestMethod]
    public void SameSeedGivesBitIdenticalWeights()
    {
        var options = new TrainingOptions { Epochs = 3 };
        var first = EngineFixture.Train(options, seed: 11).Weights;
        var second = EngineFixture.Train(options, seed: 11).Weights;
        var other = EngineFixture.Train(options, seed: 12).Weights;

        CollectionAssert.AreEqual(first, second);
        CollectionAssert.AreNotEqual(first, other);
    }

    [TestMethod]
    public void ResumedRunEndsWithTheSameWeightsAsAnUninterruptedRun()
    {
        string directory = Path.Combine(Path.GetTempPath(), "mldx-ckpt-" + Guid.NewGuid().ToString("N"));
        try
        {
            var full = new TrainingOptions { Epochs = 6, LearningRateSchedule = new CosineSchedule(), EarlyStopping = new EarlyStoppingOptions { Monitor = "loss", Patience = 50 } };
            var uninterrupted = EngineFixture.Train(full);

            var firstHalf = new TrainingOptions { Epochs = 3, LearningRateSchedule = new CosineSchedule(), EarlyStopping = full.EarlyStopping, Checkpoints = new CheckpointOptions { Directory = directory } };
            // The first half must run with the same schedule length as the full run to be comparable.
            var partial = new TrainingOptions { Epochs = 6, LearningRateSchedule = new CosineSchedule(), EarlyStopping = full.EarlyStopping, Checkpoints = firstHalf.Checkpoints, Callbacks = [new StopAfterEpochs(3)] };
            EngineFixture.Train(partial);
            string checkpoint = Path.Combine(directory, "checkpoint-epoch-0003.mldx");
            Assert.IsTrue(File.Exists(checkpoint));

            var resumed = EngineFixture.Train(new TrainingOptions
            {
                Epochs = 6,
                LearningRateSchedule = new CosineSchedule(),
                EarlyStopping = full.EarlyStopping,
                ResumeFromCheckpoint = checkpoint,
            });

            CollectionAssert.AreEqual(uninterrupted.Weights, resumed.Weights);
            Assert.AreEqual(6, resumed.History.Epochs.Count);
            CollectionAssert.AreEqual(uninterrupted.History["loss"].ToArray(), resumed.History["loss"].ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void EarlyStoppingStopsAndRestoresTheBestEpoch()
    {
        var validation = InMemoryBatchSource.Blobs(48, EngineFixture.Classes, EngineFixture.Features, 16, seed: 3);
        var options = new TrainingOptions
        {
            Epochs = 200,
            // A learning rate this high makes validation loss bounce, so the best epoch is not the last.
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 2.0 },
            EarlyStopping = new EarlyStoppingOptions { Monitor = "val_loss", Patience = 3 },
        };

        var (history, _) = EngineFixture.Train(options, validation: validation);

        Assert.IsTrue(history.StoppedEarly);
        Assert.IsLessThan(200, history.Epochs.Count);
        var valLoss = history["val_loss"];
        int best = Enumerable.Range(0, valLoss.Count).MinBy(i => valLoss[i]);
        Assert.AreEqual(history.Epochs.Count - 4, best, "stopped exactly patience epochs after the best");
        Assert.AreEqual(best, history.RestoredEpoch);
    }

    [TestMethod]
    public void CallbacksSeeEventsInOrderAndCanStopTraining()
    {
        var recorder = new RecordingCallback();
        var options = new TrainingOptions { Epochs = 5, Callbacks = [recorder, new StopAfterEpochs(2)] };

        var (history, _) = EngineFixture.Train(options);

        Assert.AreEqual(2, history.Epochs.Count);
        Assert.AreEqual("train_begin", recorder.Events[0]);
        Assert.AreEqual("epoch_begin 0", recorder.Events[1]);
        Assert.AreEqual("batch_begin 0", recorder.Events[2]);
        Assert.AreEqual("batch_end 0", recorder.Events[3]);
        Assert.AreEqual(2 * 6, recorder.Events.Count(e => e.StartsWith("batch_end", StringComparison.Ordinal)));
        Assert.AreEqual("train_end", recorder.Events[^1]);
        Assert.IsTrue(recorder.EpochLogs[0].ContainsKey("loss"));
        Assert.IsTrue(recorder.EpochLogs[0].ContainsKey("accuracy"));
        Assert.IsTrue(recorder.EpochLogs[0].ContainsKey("lr"));
    }

    [TestMethod]
    public void ValidationMetricsCarryThePrefix()
    {
        var validation = InMemoryBatchSource.Blobs(30, EngineFixture.Classes, EngineFixture.Features, 16, seed: 5);
        var (history, _) = EngineFixture.Train(new TrainingOptions { Epochs = 2 }, validation: validation);

        Assert.IsFalse(double.IsNaN(history["val_loss"][1]));
        Assert.IsFalse(double.IsNaN(history["val_accuracy"][1]));
    }

    [TestMethod]
    public void ProgressIsReportedOncePerEpoch()
    {
        var reports = new List<TrainingProgress>();
        var options = new TrainingOptions { Epochs = 3, Progress = new SynchronousProgress<TrainingProgress>(reports.Add) };

        EngineFixture.Train(options);

        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, reports.Select(r => r.Epoch).ToArray());
        StringAssert.Contains(reports[0].ToString(), "epoch 1/3");
    }

    [TestMethod]
    public void CancellationStopsTrainingBetweenBatches()
    {
        using var cancellation = new CancellationTokenSource();
        var options = new TrainingOptions { Epochs = 50, CancellationToken = cancellation.Token, Callbacks = [new CancelAtBatch(cancellation, 3)] };

        Assert.ThrowsExactly<OperationCanceledException>(() => EngineFixture.Train(options));
    }

    [TestMethod]
    public void StepDecayAndWarmupScheduleTheLearningRate()
    {
        var recorder = new RecordingCallback();
        var options = new TrainingOptions
        {
            Epochs = 4,
            Optimizer = new OptimizerOptions { LearningRate = 0.1 },
            LearningRateSchedule = new LinearWarmupSchedule(3, new StepDecaySchedule(2, 0.5)),
            Callbacks = [recorder],
        };

        EngineFixture.Train(options);

        // 6 batches per epoch: warm-up over steps 0..2, then halve every 2 epochs.
        Assert.AreEqual(0.1 / 3, recorder.BatchRates[0], 1e-12);
        Assert.AreEqual(0.1, recorder.BatchRates[5], 1e-12);
        Assert.AreEqual(0.05, recorder.BatchRates[12], 1e-12);
        Assert.AreEqual(0.05, recorder.EpochLogs[3]["lr"], 1e-12);
    }

    [TestMethod]
    public void ReduceOnPlateauLowersTheRateWhenTheMonitorStalls()
    {
        var recorder = new RecordingCallback();
        var options = new TrainingOptions
        {
            Epochs = 6,
            Optimizer = new OptimizerOptions { LearningRate = 0.1 },
            LearningRateSchedule = new ReduceOnPlateauSchedule(Monitor: "never_improves", ReductionFactor: 0.5, Patience: 1, Mode: MonitorMode.Max),
            Callbacks = [recorder, new ConstantMetric("never_improves")],
        };

        EngineFixture.Train(options);

        // Epoch 0 sets the best; epochs 1 and 2 fail to improve -> reduce after epoch 2 (wait 2 > patience 1).
        var rates = recorder.EpochLogs.Select(l => l["lr"]).ToArray();
        Assert.AreEqual(0.1, rates[0], 1e-12);
        Assert.AreEqual(0.1, rates[2], 1e-12);
        Assert.AreEqual(0.05, rates[3], 1e-12);
    }

    [TestMethod]
    public void NativeMemoryStaysFlatAcrossEpochs()
    {
        var step = EngineFixture.CreateStep(new TrainingOptions(), 3);
        var source = InMemoryBatchSource.Blobs(256, EngineFixture.Classes, EngineFixture.Features, 16);
        TrainingEngine.Fit(new TrainingRun(new TrainingOptions { Epochs = 2 }, 3), step, source, null);
        long liveAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        TrainingEngine.Fit(new TrainingRun(new TrainingOptions { Epochs = 10 }, 3), step, source, null);

        Assert.AreEqual(liveAfterWarmup, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "tensors leaked across epochs");
    }

    [TestMethod]
    public void BatchLogsAreComputedOnlyForCallbacksThatReadThem()
    {
        var reading = new BatchLogCapture(reads: true);
        var timing = new BatchLogCapture(reads: false);

        EngineFixture.Train(new TrainingOptions { Epochs = 1, Callbacks = [timing] });
        EngineFixture.Train(new TrainingOptions { Epochs = 1, Callbacks = [reading] });

        Assert.IsTrue(timing.Logs.All(l => l.Count == 0), "no callback reads batch logs: the engine skips the device sync");
        Assert.IsTrue(reading.Logs.All(l => l.ContainsKey("loss") && l.ContainsKey("accuracy")));
    }

    [TestMethod]
    public void TrainingMetricsCanBeTurnedOffButTheLossAndValidationMetricsStay()
    {
        var validation = InMemoryBatchSource.Blobs(30, EngineFixture.Classes, EngineFixture.Features, 16, seed: 5);
        var (history, _) = EngineFixture.Train(new TrainingOptions { Epochs = 2, ComputeTrainingMetrics = false }, validation: validation);

        Assert.IsFalse(history.Epochs[1].ContainsKey("accuracy"));
        Assert.IsFalse(double.IsNaN(history["loss"][1]));
        Assert.IsFalse(double.IsNaN(history["val_accuracy"][1]));
    }

    private sealed class BatchLogCapture(bool reads) : ITrainingCallback
    {
        public List<TrainingLogs> Logs { get; } = [];

        public bool ReadsBatchLogs => reads;

        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs) => Logs.Add(new TrainingLogs(logs));
    }

    private sealed class StopAfterEpochs(int epochs) : ITrainingCallback
    {
        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
        {
            if (epoch + 1 >= epochs)
            {
                run.StopTraining = true;
            }
        }
    }

    private sealed class CancelAtBatch(CancellationTokenSource source, long batch) : ITrainingCallback
    {
        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs)
        {
            if (globalStep == batch)
            {
                source.Cancel();
            }
        }
    }

    private sealed class ConstantMetric(string name) : ITrainingCallback
    {
        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs) => logs[name] = 1.0;
    }

    private sealed class RecordingCallback : ITrainingCallback
    {
        public List<string> Events { get; } = [];

        public List<TrainingLogs> EpochLogs { get; } = [];

        public List<double> BatchRates { get; } = [];

        public void OnTrainBegin(TrainingRun run) => Events.Add("train_begin");

        public void OnTrainEnd(TrainingRun run) => Events.Add("train_end");

        public void OnEpochBegin(TrainingRun run, int epoch) => Events.Add($"epoch_begin {epoch}");

        public void OnEpochEnd(TrainingRun run, int epoch, TrainingLogs logs)
        {
            Events.Add($"epoch_end {epoch}");
            EpochLogs.Add(new TrainingLogs(logs));
        }

        public void OnBatchBegin(TrainingRun run, long globalStep)
        {
            Events.Add($"batch_begin {globalStep}");
            BatchRates.Add(run.LearningRate);
        }

        public void OnBatchEnd(TrainingRun run, long globalStep, TrainingLogs logs) => Events.Add($"batch_end {globalStep}");
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
