using CsCheck;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision.Datasets;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;
using ML.DeepExtensions.Tests.Vision.Datasets;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Random byte corruption and truncation of the files the library reads (issue 12): IDX data
/// files, checkpoints (through the public Fit + ResumeFromCheckpoint path) and saved model zips
/// (ML.NET's own Model.Load). Every corruption is either detected with a clear managed exception or,
/// where the format cannot tell, harmless; docs/reliability.md lists which is which.
/// </summary>
[TestClass]
public sealed class CorruptionPropertyTests
{
    private const int Images = 12;
    private const int ImageRows = 4;
    private const int ImageColumns = 5;
    private const int CheckpointCases = 40;

    private static readonly MLContext Context = new(seed: 1);
    private static string _checkpoint = "";
    private static string _checkpointDirectory = "";
    private static byte[] _model = [];
    private static float[][] _modelScores = [];
    private static List<TabularFixtures.Row> _rows = [];

    private string _directory = null!;

    public TestContext TestContext { get; set; } = null!;

    public enum Damage
    {
        FlipBytes,
        Truncate,
    }

    [ClassInitialize]
    public static void TrainOnce(TestContext _)
    {
        _rows = TabularFixtures.Rows(60);
        _checkpointDirectory = Directory.CreateTempSubdirectory("mldx-corrupt-ckpt-").FullName;
        var model = Context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions
        {
            HiddenLayers = [8],
            Epochs = 1,
            Seed = 1,
            Checkpoints = new CheckpointOptions { Directory = _checkpointDirectory },
        }).Fit(KeyLabelled(_rows));
        _checkpoint = Directory.GetFiles(_checkpointDirectory).Single();
        using var stream = new MemoryStream();
        Context.Model.Save(model, KeyLabelled(_rows).Schema, stream);
        _model = stream.ToArray();
        _modelScores = model.Transform(TabularFixtures.Load(Context, _rows)).GetColumn<float[]>("Score").ToArray();
    }

    [ClassCleanup]
    public static void DeleteCheckpoints() => Directory.Delete(_checkpointDirectory, recursive: true);

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("mldx-corrupt-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void EveryDamagedIdxFileIsDetectedNamingTheFileOrIsHarmless(bool gzip)
    {
        var labels = Enumerable.Range(0, Images).Select(i => (byte)(i % 3)).ToArray();
        var (imagesPath, labelsPath) = IdxFiles.WritePair(_directory, Images, ImageRows, ImageColumns, labels, gzip, prefix: "original");
        var original = ReadIdx(imagesPath, labelsPath);
        var pristine = (Images: File.ReadAllBytes(imagesPath), Labels: File.ReadAllBytes(labelsPath));
        int detected = 0, harmless = 0, undetectable = 0;

        PropertyCases.Check(Damages(), 60, seed: gzip ? 21UL : 22UL, d =>
        {
            bool imageFile = d.Target == 0;
            byte[] damaged = d.Apply(imageFile ? pristine.Images : pristine.Labels);
            string images = Path.Combine(_directory, "images"), labelFile = Path.Combine(_directory, "labels");
            File.WriteAllBytes(images, imageFile ? damaged : pristine.Images);
            File.WriteAllBytes(labelFile, imageFile ? pristine.Labels : damaged);
            string damagedPath = imageFile ? images : labelFile;

            (float[][] Pixels, uint[] Labels)? read = null;
            var error = PropertyCases.ExpectCleanFailureOrSuccess(() => read = ReadIdx(images, labelFile));
            if (error is not null)
            {
                StringAssert.Contains(error.Message, damagedPath, $"the error must name the damaged file: {error.Message}");
                detected++;
                return;
            }

            bool same = read!.Value.Pixels.Zip(original.Pixels).All(p => p.First.SequenceEqual(p.Second)) && read.Value.Labels.SequenceEqual(original.Labels);
            if (same)
            {
                harmless++; // e.g. a gzip header's timestamp, which no check covers and nothing reads
                return;
            }

            // IDX has no checksum: only a changed pixel or label byte of a plain file can go unnoticed.
            int headerLength = imageFile ? 16 : 8;
            Assert.IsFalse(gzip, "a damaged gzip file decoded to other data without an error");
            Assert.AreEqual(Damage.FlipBytes, d.Kind, "a truncated file was read without an error");
            Assert.IsTrue(d.Positions.All(p => p >= headerLength), "a damaged header was read without an error");
            undetectable++;
        }, d => d.ToString());
        TestContext.WriteLine($"{(gzip ? "gzip" : "plain")}: {detected} detected, {harmless} harmless, {undetectable} changed data bytes (no checksum in plain IDX)");
    }

    [TestMethod]
    public void EveryDamagedCheckpointIsRejectedNamingTheFile()
    {
        byte[] pristine = File.ReadAllBytes(_checkpoint);
        PropertyCases.Check(Damages(), CheckpointCases, seed: 31, d =>
        {
            string path = Path.Combine(_directory, $"damaged-{Guid.NewGuid():N}.mldx");
            File.WriteAllBytes(path, d.Apply(pristine));
            var options = new MlpMulticlassOptions
            {
                HiddenLayers = [8],
                Epochs = 2,
                // Half the cases take the seed from the checkpoint, which reads it before anything else.
                Seed = d.Target == 0 ? 1 : null,
                ResumeFromCheckpoint = path,
            };

            var error = PropertyCases.ExpectCleanFailureOrSuccess(() => Context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(_rows)));

            Assert.IsNotNull(error, "a damaged checkpoint was resumed from");
            Assert.IsTrue(error is InvalidDataException or IOException, $"{error.GetType().Name}: {error.Message}");
            StringAssert.Contains(error.Message, path);
        }, d => d.ToString());
    }

    [TestMethod]
    public void EveryDamagedModelZipFailsToLoadWithAManagedExceptionOrScoresUnchanged()
    {
        int failed = 0, harmless = 0, namesFile = 0;
        var messages = new SortedSet<string>(StringComparer.Ordinal);
        PropertyCases.Check(Damages(), 60, seed: 41, d =>
        {
            string path = Path.Combine(_directory, $"model-{Guid.NewGuid():N}.zip");
            File.WriteAllBytes(path, d.Apply(_model));
            float[][]? scores = null;

            // ML.NET loads its components by reflection and lets a TargetInvocationException carry the
            // real error; the property is about what is inside it.
            var error = PropertyCases.ExpectCleanFailureOrSuccess(() =>
            {
                try
                {
                    var model = new MLContext(seed: 1).Model.Load(path, out _);
                    scores = model.Transform(TabularFixtures.Load(Context, _rows)).GetColumn<float[]>("Score").ToArray();
                }
                catch (System.Reflection.TargetInvocationException wrapper) when (wrapper.InnerException is not null)
                {
                    Exception inner = wrapper;
                    while (inner is System.Reflection.TargetInvocationException { InnerException: { } next })
                    {
                        inner = next;
                    }

                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
                }
            }, anyManagedType: true);

            if (error is null)
            {
                Assert.IsTrue(scores!.Zip(_modelScores).All(p => p.First.SequenceEqual(p.Second)), "a damaged model loaded and scored differently");
                harmless++;
                return;
            }

            failed++;
            namesFile += error.Message.Contains(path, StringComparison.Ordinal) ? 1 : 0;
            messages.Add($"{error.GetType().Name}: {error.Message.Split('\n')[0]}");
        }, d => d.ToString());
        TestContext.WriteLine($"model zip: {failed} failed to load or score, {namesFile} of them naming the file; {harmless} harmless");
        foreach (string message in messages)
        {
            TestContext.WriteLine($"  {message}");
        }
    }

    /// <summary>A damage: flip 1-4 bytes at random positions, or truncate at a random length. Target picks the file (or the seed source).</summary>
    private static Gen<DamageCase> Damages() =>
        // Positions from uniform integers: CsCheck's Double favours 0 and 1, which would hit the first byte too often.
        Gen.Select(Gen.Frequency((2, Damage.FlipBytes), (1, Damage.Truncate)), Gen.Int[0, 1], Gen.Int[0, 999_999].Select(u => u / 1e6).Array[1, 4], Gen.Int[1, 255],
            (kind, target, where, mask) => new DamageCase(kind, target, where, (byte)mask));

    private static IDataView KeyLabelled(List<TabularFixtures.Row> rows)
    {
        var data = TabularFixtures.Load(Context, rows);
        return TabularFixtures.KeyLabel(Context).Fit(data).Transform(data);
    }

    private static (float[][] Pixels, uint[] Labels) ReadIdx(string images, string labels)
    {
        var view = Context.Data.LoadFromIdxFiles(images, labels, classNames: ["a", "b", "c"]);
        return (view.GetColumn<float[]>("Features").ToArray(), view.GetColumn<uint>("Label").ToArray());
    }

    public sealed record DamageCase(Damage Kind, int Target, double[] Where, byte Mask)
    {
        /// <summary>The byte positions the last <see cref="Apply"/> changed (for flips).</summary>
        public int[] Positions { get; private set; } = [];

        public byte[] Apply(byte[] pristine)
        {
            if (Kind == Damage.Truncate)
            {
                int length = (int)(Where[0] * pristine.Length);
                Positions = [length];
                return pristine[..Math.Min(length, pristine.Length - 1)];
            }

            var damaged = (byte[])pristine.Clone();
            // Distinct positions: the same byte flipped twice with one mask would be unchanged.
            Positions = Where.Select(w => Math.Min(pristine.Length - 1, (int)(w * pristine.Length))).Distinct().ToArray();
            foreach (int position in Positions)
            {
                damaged[position] ^= Mask;
            }

            return damaged;
        }

        public override string ToString() =>
            $"{Kind} of file {Target} at {string.Join(", ", Where.Select(w => w.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}, mask 0x{Mask:X2}";
    }
}
