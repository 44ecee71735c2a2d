using System.Globalization;

namespace ML.DeepExtensions.Vision;

/// <summary>
/// Which random augmentations <see cref="ImageAugmenter"/> applies to each training batch. Every
/// augmentation is off by default; the defaults of the erasing ranges are those of the random-erasing
/// paper (Zhong et al., 2017).
/// </summary>
/// <remarks>
/// The augmentations run in this order: random crop, horizontal flip, random erasing. Each image of a
/// batch gets its own random draw. They act on whatever scale the tensor has (raw 0 to 255 pixels or
/// normalised values), so the zero padding of the crop and <see cref="RandomErasingValue"/> are in the
/// tensor's units.
/// </remarks>
/// <example>
/// <code>
/// var options = new ImageAugmentationOptions { RandomCropPadding = 2, HorizontalFlip = true, RandomErasingProbability = 0.25 };
/// using var augmenter = new ImageAugmenter(options, seed: 1);
/// </code>
/// </example>
public sealed record ImageAugmentationOptions
{
    /// <summary>
    /// Random translation: each image is padded with this many zero pixels on every side and cropped back
    /// to its height × width at a random offset, so its content moves by up to this many pixels in each
    /// direction. 0 (the default) turns it off. Common for 28×28 images: 2 to 4.
    /// </summary>
    public int RandomCropPadding { get; init; }

    /// <summary>Mirror each image left to right with probability 0.5. Off by default.</summary>
    /// <remarks>Suits clothing and natural images; not digits or text, whose meaning a mirror changes.</remarks>
    public bool HorizontalFlip { get; init; }

    /// <summary>
    /// The probability that an image gets one rectangle erased (filled with <see cref="RandomErasingValue"/>),
    /// in [0, 1]. 0 (the default) turns erasing off. Common: 0.25 to 0.5.
    /// </summary>
    public double RandomErasingProbability { get; init; }

    /// <summary>The smallest erased area, as a fraction of the image area, in (0, 1]. Default 0.02.</summary>
    public double RandomErasingMinArea { get; init; } = 0.02;

    /// <summary>The largest erased area, as a fraction of the image area, in [<see cref="RandomErasingMinArea"/>, 1]. Default 0.33.</summary>
    public double RandomErasingMaxArea { get; init; } = 0.33;

    /// <summary>
    /// The smallest aspect ratio (height / width) of the erased rectangle, above 0. Default 0.3. The ratio
    /// is drawn log-uniformly, so a ratio and its inverse are equally likely when the range is symmetric.
    /// </summary>
    public double RandomErasingMinAspectRatio { get; init; } = 0.3;

    /// <summary>The largest aspect ratio (height / width) of the erased rectangle, at least <see cref="RandomErasingMinAspectRatio"/>. Default 1 / 0.3 (about 3.33), symmetric to the minimum.</summary>
    public double RandomErasingMaxAspectRatio { get; init; } = 1 / 0.3;

    /// <summary>The value written into erased pixels, in the tensor's units. Default 0.</summary>
    public float RandomErasingValue { get; init; }

    /// <summary>True when every augmentation is off, so augmenting returns the batch unchanged.</summary>
    public bool IsIdentity => RandomCropPadding == 0 && !HorizontalFlip && RandomErasingProbability == 0;

    /// <summary>Checks that every setting is within its documented range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (RandomCropPadding < 0)
        {
            throw OutOfRange(nameof(RandomCropPadding), RandomCropPadding, "must be 0 (off) or a positive number of pixels");
        }

        if (!(RandomErasingProbability >= 0 && RandomErasingProbability <= 1))
        {
            throw OutOfRange(nameof(RandomErasingProbability), RandomErasingProbability, "must be in [0, 1]");
        }

        if (!(RandomErasingMinArea > 0 && RandomErasingMinArea <= 1))
        {
            throw OutOfRange(nameof(RandomErasingMinArea), RandomErasingMinArea, "must be in (0, 1]");
        }

        if (!(RandomErasingMaxArea >= RandomErasingMinArea && RandomErasingMaxArea <= 1))
        {
            throw OutOfRange(nameof(RandomErasingMaxArea), RandomErasingMaxArea, $"must be in [{nameof(RandomErasingMinArea)}, 1]");
        }

        if (!(RandomErasingMinAspectRatio > 0 && double.IsFinite(RandomErasingMinAspectRatio)))
        {
            throw OutOfRange(nameof(RandomErasingMinAspectRatio), RandomErasingMinAspectRatio, "must be a finite number above 0");
        }

        if (!(RandomErasingMaxAspectRatio >= RandomErasingMinAspectRatio && double.IsFinite(RandomErasingMaxAspectRatio)))
        {
            throw OutOfRange(nameof(RandomErasingMaxAspectRatio), RandomErasingMaxAspectRatio, $"must be finite and at least {nameof(RandomErasingMinAspectRatio)}");
        }

        if (float.IsNaN(RandomErasingValue))
        {
            throw OutOfRange(nameof(RandomErasingValue), RandomErasingValue, "must not be NaN");
        }
    }

    private static ArgumentOutOfRangeException OutOfRange(string name, object value, string rule) =>
        new(name, value, string.Create(CultureInfo.InvariantCulture, $"ImageAugmentationOptions.{name} {rule}; got {value}."));
}
