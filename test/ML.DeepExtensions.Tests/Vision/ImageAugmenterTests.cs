using System.Diagnostics;
using ML.DeepExtensions.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Vision;

[TestClass]
public sealed class ImageAugmenterTests
{
    private static readonly ImageAugmentationOptions Everything = new()
    {
        RandomCropPadding = 3,
        HorizontalFlip = true,
        RandomErasingProbability = 0.5,
    };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(ScalarType.Float32)]
    [DataRow(ScalarType.Float64)]
    public void ShapeDtypeAndDeviceArePreserved(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(8, 3, 12, 10, seed: 1).to(dtype);
        using var augmenter = new ImageAugmenter(Everything, seed: 1);

        var augmented = augmenter.Augment(images);

        CollectionAssert.AreEqual(images.shape, augmented.shape);
        Assert.AreEqual(dtype, augmented.dtype);
        Assert.AreEqual(images.device_type, augmented.device_type);
    }

    [TestMethod]
    public void WithEverythingOffTheBatchIsReturnedUnchanged()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(4, 1, 28, 28, seed: 2);
        var copy = images.clone();
        var off = new ImageAugmentationOptions { RandomErasingValue = 7, RandomErasingMinArea = 0.1 };
        using var augmenter = new ImageAugmenter(off, seed: 1);

        var augmented = augmenter.Augment(images);

        Assert.IsTrue(off.IsIdentity);
        Assert.AreSame(images, augmented);
        Assert.IsTrue(Same(augmented, copy));
    }

    [TestMethod]
    public void TheInputIsNotModified()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(16, 1, 28, 28, seed: 3);
        var copy = images.clone();
        using var augmenter = new ImageAugmenter(Everything with { RandomErasingProbability = 1 }, seed: 1);

        augmenter.Augment(images);

        Assert.IsTrue(Same(images, copy));
    }

    [TestMethod]
    public void SameSeedGivesTheSameBatchesAndAnotherSeedDifferentOnes()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(32, 1, 28, 28, seed: 4);
        using var first = new ImageAugmenter(Everything, seed: 11);
        using var second = new ImageAugmenter(Everything, seed: 11);
        using var other = new ImageAugmenter(Everything, seed: 12);

        for (int batch = 0; batch < 3; batch++)
        {
            var a = first.Augment(images);
            var b = second.Augment(images);
            var c = other.Augment(images);
            Assert.IsTrue(Same(a, b), $"batch {batch}: same seed");
            Assert.IsFalse(Same(a, c), $"batch {batch}: different seed");
        }
    }

    [TestMethod]
    public void ReseedRestartsTheSequence()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(16, 1, 28, 28, seed: 5);
        using var augmenter = new ImageAugmenter(Everything, seed: 3);
        var firstBatch = augmenter.Augment(images);
        augmenter.Augment(images);

        augmenter.Reseed(3);

        Assert.IsTrue(Same(augmenter.Augment(images), firstBatch));
    }

    [TestMethod]
    public void FlipMirrorsExactlyTheChosenImages()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(64, 2, 6, 9, seed: 6);
        using var augmenter = new ImageAugmenter(new ImageAugmentationOptions { HorizontalFlip = true }, seed: 1);

        var augmented = augmenter.Augment(images);

        int flipped = 0;
        for (int i = 0; i < 64; i++)
        {
            bool same = Same(augmented[i], images[i]);
            bool mirrored = Same(augmented[i], images[i].flip(2));
            Assert.IsTrue(same ^ mirrored, $"image {i} is either untouched or exactly mirrored");
            flipped += mirrored ? 1 : 0;
        }

        Assert.IsTrue(flipped is > 16 and < 48, $"about half flipped, got {flipped} of 64");
    }

    [TestMethod]
    public void CropMovesASinglePixelByAtMostThePaddingAndUsesEveryOffset()
    {
        const int Padding = 2, Size = 9, Center = 4, Count = 200;
        using var scope = NewDisposeScope();
        var images = zeros(Count, 1, Size, Size);
        images[TensorIndex.Colon, 0, Center, Center] = tensor(1f);
        using var augmenter = new ImageAugmenter(new ImageAugmentationOptions { RandomCropPadding = Padding }, seed: 1);

        var augmented = augmenter.Augment(images);

        var shifts = new HashSet<(long, long)>();
        for (int i = 0; i < Count; i++)
        {
            var image = augmented[i, 0];
            Assert.AreEqual(1f, image.sum().item<float>(), $"image {i} keeps its pixel, whole");
            long position = image.flatten().argmax().item<long>();
            long dy = (position / Size) - Center, dx = (position % Size) - Center;
            Assert.IsTrue(Math.Abs(dy) <= Padding && Math.Abs(dx) <= Padding, $"image {i} moved by ({dy}, {dx})");
            shifts.Add((dy, dx));
        }

        Assert.HasCount((2 * Padding + 1) * (2 * Padding + 1), shifts, "every offset in [-p, p]^2 occurs");
    }

    [TestMethod]
    public void CropFillsUncoveredBorderWithZeros()
    {
        using var scope = NewDisposeScope();
        var images = ones(50, 1, 5, 5);
        using var augmenter = new ImageAugmenter(new ImageAugmentationOptions { RandomCropPadding = 1 }, seed: 2);

        var augmented = augmenter.Augment(images);

        for (int i = 0; i < 50; i++)
        {
            float sum = augmented[i].sum().item<float>();
            Assert.IsTrue(sum is 25f or 20f or 16f, $"image {i}: a shifted block of ones (sum {sum})");
        }
    }

    [TestMethod]
    public void ErasingFillsOneRectangleWithinTheRangesInChosenImagesOnly()
    {
        const int Count = 400, Channels = 3, Height = 20, Width = 24;
        var options = new ImageAugmentationOptions
        {
            RandomErasingProbability = 0.5,
            RandomErasingMinArea = 0.05,
            RandomErasingMaxArea = 0.3,
            RandomErasingMinAspectRatio = 0.5,
            RandomErasingMaxAspectRatio = 2,
            RandomErasingValue = -3,
        };
        using var scope = NewDisposeScope();
        var images = RandomImages(Count, Channels, Height, Width, seed: 7) + 1; // all in [1, 2): never the fill value
        using var augmenter = new ImageAugmenter(options, seed: 5);

        var augmented = augmenter.Augment(images);

        var changed = augmented.ne(images);
        Assert.IsTrue(Same(changed.any(1), changed.all(1)), "the same pixels change in every channel");
        Assert.IsTrue(augmented.masked_select(changed).eq(-3f).all().item<bool>(), "changed pixels hold the fill value");
        int erased = 0;
        for (int i = 0; i < Count; i++)
        {
            var mask = changed[i, 0];
            long count = mask.sum().item<long>();
            if (count == 0)
            {
                continue;
            }

            erased++;
            var rows = mask.any(1).nonzero().flatten();
            var columns = mask.any(0).nonzero().flatten();
            long h = rows[-1].item<long>() - rows[0].item<long>() + 1;
            long w = columns[-1].item<long>() - columns[0].item<long>() + 1;
            Assert.AreEqual(h * w, count, $"image {i}: the changed pixels fill their bounding box, one rectangle");

            // The drawn sizes are rounded to whole pixels, so allow half a pixel either way.
            double area = Height * Width;
            Assert.IsTrue((h - 0.5) * (w - 0.5) <= 0.3 * area && (h + 0.5) * (w + 0.5) >= 0.05 * area, $"image {i}: {h} x {w} area");
            Assert.IsTrue((h - 0.5) / (w + 0.5) <= 2 && (h + 0.5) / (w - 0.5) >= 0.5, $"image {i}: {h} x {w} aspect");
        }

        Assert.IsTrue(erased is > 150 and < 250, $"about half erased, got {erased} of {Count}");
    }

    [TestMethod]
    public void ErasingEveryImageWhenTheProbabilityIsOne()
    {
        using var scope = NewDisposeScope();
        var images = ones(100, 1, 28, 28);
        var options = new ImageAugmentationOptions { RandomErasingProbability = 1, RandomErasingMaxArea = 0.2 };
        using var augmenter = new ImageAugmenter(options, seed: 9);

        var augmented = augmenter.Augment(images);

        // With areas up to 0.2 every drawn rectangle fits in a square image, so none is skipped.
        Assert.IsTrue(augmented.eq(0).flatten(1).any(1).all().item<bool>());
    }

    [TestMethod]
    public void NoTensorOutlivesTheCallersScope()
    {
        using var images = RandomImages(128, 1, 28, 28, seed: 8);
        using var augmenter = new ImageAugmenter(Everything, seed: 1);
        using (NewDisposeScope())
        {
            augmenter.Augment(images); // warm-up: libtorch may cache on first use
        }

        long liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Tensor result;
        using (NewDisposeScope())
        {
            result = augmenter.Augment(images);
            Assert.AreEqual(liveBefore + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "only the result is alive");
        }

        Assert.IsTrue(result.IsInvalid, "the result belonged to the caller's scope");
        Assert.AreEqual(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [TestMethod]
    public void NonImageBatchesAreRejected()
    {
        using var scope = NewDisposeScope();
        using var augmenter = new ImageAugmenter(Everything, seed: 1);

        Assert.ThrowsExactly<ArgumentException>(() => augmenter.Augment(zeros(4, 28, 28)));
        Assert.ThrowsExactly<ArgumentException>(() => augmenter.Augment(zeros([4, 1, 28, 28], ScalarType.Byte)));
    }

    [TestMethod]
    public void OutOfRangeOptionsNameTheSetting()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageAugmenter(new ImageAugmentationOptions { RandomCropPadding = -1 }, 1));
        Assert.Contains("RandomCropPadding", error.Message);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageAugmentationOptions { RandomErasingProbability = 1.5 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageAugmentationOptions { RandomErasingMinArea = 0 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageAugmentationOptions { RandomErasingMinArea = 0.5, RandomErasingMaxArea = 0.4 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageAugmentationOptions { RandomErasingMinAspectRatio = 2, RandomErasingMaxAspectRatio = 1 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ImageAugmentationOptions { RandomErasingValue = float.NaN }.Validate());
    }

    // Tensor.equal is element-wise in TorchSharp; this is torch.equal: same shape, every element equal.
    private static bool Same(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Tensor RandomImages(long n, long c, long h, long w, int seed)
    {
        using var generator = new Generator((ulong)seed);
        return rand([n, c, h, w], generator: generator);
    }
}
