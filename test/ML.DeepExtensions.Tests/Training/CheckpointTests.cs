using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

[TestClass]
public sealed class CheckpointTests
{
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-ckpt-").FullName;

    [TestCleanup]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_directory))
        {
            foreach (var file in Directory.EnumerateFiles(_directory))
            {
                File.SetAttributes(file, FileAttributes.Normal);
            }

            Directory.Delete(_directory, recursive: true);
        }
    }

    [TestMethod]
    public void CheckpointsAreWrittenEveryNEpochs()
    {
        EngineFixture.Train(new TrainingOptions { Epochs = 5, Checkpoints = new CheckpointOptions { Directory = _directory, EveryEpochs = 2 } });

        CollectionAssert.AreEquivalent(
            new[] { "checkpoint-epoch-0002.mldx", "checkpoint-epoch-0004.mldx" },
            Directory.GetFiles(_directory).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void ACorruptCheckpointIsRejectedByName()
    {
        string path = WriteCheckpoint();
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Resume(path));
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, "corrupt");
    }

    [TestMethod]
    public void ATruncatedCheckpointIsRejectedByName()
    {
        string path = WriteCheckpoint();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Resume(path));
        StringAssert.Contains(error.Message, "truncated");
    }

    [TestMethod]
    public void AForeignFileIsNotTakenForACheckpoint()
    {
        string path = Path.Combine(_directory, "notes.txt");
        File.WriteAllText(path, "hello, this is not a checkpoint at all");

        var error = Assert.ThrowsExactly<InvalidDataException>(() => Resume(path));
        StringAssert.Contains(error.Message, "is not an ML.DeepExtensions checkpoint");
    }

    [TestMethod]
    public void AMissingCheckpointNamesThePath()
    {
        string path = Path.Combine(_directory, "nothing-here.mldx");

        var error = Assert.ThrowsExactly<IOException>(() => Resume(path));
        StringAssert.Contains(error.Message, path);
    }

    [TestMethod]
    public void ACheckpointOfAnotherNetworkIsRejected()
    {
        string path = WriteCheckpoint();
        var network = nn.Sequential(("fc1", nn.Linear(EngineFixture.Features, 8)), ("fc2", nn.Linear(8, EngineFixture.Classes)));
        var loss = nn.CrossEntropyLoss();
        var options = new TrainingOptions { Epochs = 3, ResumeFromCheckpoint = path };
        var step = new SupervisedTrainStep(network, (o, l) => loss.forward(o, l), options.Optimizer.Create(network.parameters()), () => [], CPU);

        var error = Assert.ThrowsExactly<InvalidDataException>(
            () => TrainingEngine.Fit(new TrainingRun(options, 7), step, InMemoryBatchSource.Blobs(32, 3, EngineFixture.Features, 16), null));
        StringAssert.Contains(error.Message, "different network");
        StringAssert.Contains(error.Message, "fc1.weight");
    }

    [TestMethod]
    public void AnUnwritableCheckpointDirectoryFailsBeforeTraining()
    {
        // A regular file where the directory should be: cannot be created, whatever the user's rights.
        string blocker = Path.Combine(_directory, "blocker");
        File.WriteAllText(blocker, "x");
        var counting = InMemoryBatchSource.Blobs(32, 3, EngineFixture.Features, 16);
        var options = new TrainingOptions { Epochs = 2, Checkpoints = new CheckpointOptions { Directory = Path.Combine(blocker, "checkpoints") } };

        var error = Assert.ThrowsExactly<InvalidOperationException>(
            () => TrainingEngine.Fit(new TrainingRun(options, 1), EngineFixture.CreateStep(options, 1), counting, null));
        StringAssert.Contains(error.Message, "cannot be written");
        StringAssert.Contains(error.Message, blocker);
        Assert.AreEqual(0, counting.EnumerationsStarted, "no training happened");
    }

    [TestMethod]
    public void ExistingCheckpointsAreNeverOverwritten()
    {
        string path = WriteCheckpoint();
        byte[] before = File.ReadAllBytes(path);

        var error = Assert.ThrowsExactly<IOException>(() => WriteCheckpoint());
        StringAssert.Contains(error.Message, "will not be overwritten");
        CollectionAssert.AreEqual(before, File.ReadAllBytes(path));
        Assert.AreEqual(1, Directory.GetFiles(_directory).Length, "no partial files left behind");
    }

    [TestMethod]
    public void ResumingWithAnotherSeedIsRefused()
    {
        string path = WriteCheckpoint();

        var error = Assert.ThrowsExactly<InvalidOperationException>(
            () => EngineFixture.Train(new TrainingOptions { Epochs = 3, ResumeFromCheckpoint = path, Seed = 99 }, seed: 99));
        StringAssert.Contains(error.Message, "seed 7");
    }

    private string WriteCheckpoint()
    {
        EngineFixture.Train(new TrainingOptions { Epochs = 1, Checkpoints = new CheckpointOptions { Directory = _directory } });
        return Path.Combine(_directory, "checkpoint-epoch-0001.mldx");
    }

    private static void Resume(string path) =>
        EngineFixture.Train(new TrainingOptions { Epochs = 3, ResumeFromCheckpoint = path });
}
