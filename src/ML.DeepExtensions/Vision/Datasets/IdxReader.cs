using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace ML.DeepExtensions.Vision.Datasets;

/// <summary>
/// Reads an IDX file (the format of MNIST and Fashion-MNIST) item by item, without loading it whole.
/// </summary>
/// <remarks>
/// <para>
/// An IDX file starts with a big-endian 32-bit magic number <c>0x0000TTDD</c>, where <c>TT</c> is the
/// element type and <c>DD</c> the number of dimensions, followed by one big-endian 32-bit size per
/// dimension and then the elements in row-major order. The first dimension counts the items: an image
/// file (<c>0x00000803</c>) holds count × rows × columns bytes, a label file (<c>0x00000801</c>) one
/// byte per item. Only unsigned-byte elements (type <c>0x08</c>) are supported.
/// </para>
/// <para>
/// The file may be gzip-compressed; this is detected from its first two bytes (<c>1F 8B</c>), not from
/// its name. Every format problem is reported as an <see cref="InvalidDataException"/> whose message
/// names the file. An uncompressed file that is shorter than its header promises fails in
/// <see cref="Open"/>; a compressed one fails when reading reaches the missing item.
/// </para>
/// <para>An instance is not thread-safe; open one reader per thread.</para>
/// </remarks>
/// <example>
/// <code>
/// using var labels = IdxReader.OpenLabels("t10k-labels-idx1-ubyte.gz");
/// Span&lt;byte&gt; label = stackalloc byte[1];
/// while (labels.ReadItem(label))
/// {
///     // label[0] is the class of the next item.
/// }
/// </code>
/// </example>
public sealed class IdxReader : IDisposable
{
    /// <summary>The magic number of an IDX file of unsigned-byte images: count, rows, columns.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic number of an IDX file of unsigned-byte labels: count.</summary>
    public const int LabelsMagic = 0x00000801;

    private const byte UnsignedByteType = 0x08;
    private const int StreamBufferSize = 1 << 16;

    private readonly Stream _stream;
    private readonly int[] _dimensions;
    private bool _disposed;

    private IdxReader(string filePath, Stream stream, bool isCompressed, int[] dimensions, int itemLength)
    {
        FilePath = filePath;
        _stream = stream;
        IsCompressed = isCompressed;
        _dimensions = dimensions;
        ItemLength = itemLength;
    }

    /// <summary>The path the reader was opened with.</summary>
    public string FilePath { get; }

    /// <summary>True when the file is gzip-compressed.</summary>
    public bool IsCompressed { get; }

    /// <summary>
    /// The sizes from the header: the item count first, then the shape of one item (for example
    /// <c>[10000, 28, 28]</c> for an image file, <c>[10000]</c> for a label file).
    /// </summary>
    public IReadOnlyList<int> Dimensions => _dimensions;

    /// <summary>The number of items the header declares (its first dimension).</summary>
    public int ItemCount => _dimensions[0];

    /// <summary>The number of bytes per item: the product of all dimensions but the first (1 for a label file).</summary>
    public int ItemLength { get; }

    /// <summary>How many items have been read so far.</summary>
    public int ItemsRead { get; private set; }

    /// <summary>Opens an IDX file of any number of dimensions with unsigned-byte elements.</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>A reader positioned at the first item.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not an IDX file (wrong magic number), holds another element type, or a plain file's
    /// length is not exactly what its header declares.
    /// </exception>
    public static IdxReader Open(string path) => OpenCore(path, expectedMagic: null, kind: "IDX");

    /// <summary>Opens an IDX image file (magic <c>0x00000803</c>: count, rows, columns).</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>A reader whose items are images of <see cref="ItemLength"/> = rows × columns bytes.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// Wrong magic number, a dimension count other than 3, a zero image size, or a plain file's length
    /// is not exactly what its header declares.
    /// </exception>
    public static IdxReader OpenImages(string path) => OpenCore(path, ImagesMagic, kind: "IDX image");

    /// <summary>Opens an IDX label file (magic <c>0x00000801</c>: count).</summary>
    /// <param name="path">The file, plain or gzip-compressed.</param>
    /// <returns>A reader whose items are single bytes.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Wrong magic number, a dimension count other than 1, or a plain file's length is not exactly what its header declares.</exception>
    public static IdxReader OpenLabels(string path) => OpenCore(path, LabelsMagic, kind: "IDX label");

    /// <summary>
    /// Reads the next item into <paramref name="destination"/>, which must hold at least
    /// <see cref="ItemLength"/> bytes.
    /// </summary>
    /// <param name="destination">Receives the item's bytes in row-major order.</param>
    /// <returns>True when an item was read; false after the last item the header declares.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="ItemLength"/>.</exception>
    /// <exception cref="InvalidDataException">
    /// The file ends (or its compressed data breaks off) before the item is complete; or, after the
    /// last item of a gzip file, its CRC-32 or length check fails or more data follows.
    /// </exception>
    public bool ReadItem(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length < ItemLength)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; an item of '{FilePath}' has {ItemLength}.", nameof(destination));
        }

        if (ItemsRead >= ItemCount)
        {
            return false;
        }

        int read = ReadFully(destination[..ItemLength]);
        if (read < ItemLength)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX file '{FilePath}' is truncated: it ends inside item {ItemsRead} of the {ItemCount} its header declares."));
        }

        ItemsRead++;
        if (ItemsRead == ItemCount && IsCompressed)
        {
            CheckCompressedEnd();
        }

        return true;
    }

    /// <summary>
    /// After the last item a gzip file must end: reading on to the end makes the decompressor check
    /// the stream's CRC-32 and length, so corrupt data that still decompresses is caught, and data
    /// beyond the declared items means the header is wrong.
    /// </summary>
    private void CheckCompressedEnd()
    {
        Span<byte> probe = stackalloc byte[1];
        if (ReadFully(probe) > 0)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX file '{FilePath}' has data after the {ItemCount} items its header declares: the header or the file is corrupt."));
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _stream.Dispose();
        }
    }

    private int ReadFully(Span<byte> buffer)
    {
        try
        {
            return _stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException error)
        {
            // The decompressor's own message does not say which file is broken.
            throw new InvalidDataException($"IDX file '{FilePath}' has corrupt gzip data: {error.Message}", error);
        }
    }

    private static IdxReader OpenCore(string path, int? expectedMagic, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IDX file '{path}' was not found.", path);
        }

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, StreamBufferSize);
        try
        {
            Span<byte> gzipMagic = stackalloc byte[2];
            int magicRead = file.ReadAtLeast(gzipMagic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            bool compressed = magicRead == 2 && gzipMagic[0] == 0x1F && gzipMagic[1] == 0x8B;
            Stream stream = compressed
                ? new BufferedStream(new GZipStream(file, CompressionMode.Decompress), StreamBufferSize)
                : file;
            var reader = ReadHeader(path, stream, compressed, expectedMagic, kind);
            if (!compressed)
            {
                CheckPlainLength(reader, file.Length);
            }

            return reader;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static IdxReader ReadHeader(string path, Stream stream, bool compressed, int? expectedMagic, string kind)
    {
        Span<byte> magicBytes = stackalloc byte[4];
        ReadHeaderBytes(path, stream, magicBytes, compressed);
        int magic = BinaryPrimitives.ReadInt32BigEndian(magicBytes);
        string expected = expectedMagic is { } m
            ? $"0x{m:X8} ({kind} file)"
            : "0x000008DD (IDX file of unsigned bytes with DD dimensions)";
        if (magicBytes[0] != 0 || magicBytes[1] != 0 || !IsIdxElementType(magicBytes[2]) || magicBytes[3] == 0)
        {
            throw new InvalidDataException($"'{path}' is not an {kind} file: wrong magic number 0x{magic:X8}, expected {expected}.");
        }

        if (magicBytes[2] != UnsignedByteType)
        {
            throw new InvalidDataException(
                $"IDX file '{path}' holds elements of type 0x{magicBytes[2]:X2} (magic number 0x{magic:X8}); only unsigned bytes (type 0x08) are supported.");
        }

        int dimensionCount = magicBytes[3];
        if (expectedMagic is { } wanted && dimensionCount != (wanted & 0xFF))
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX file '{path}' has {dimensionCount} dimension(s) (magic number 0x{magic:X8}); an {kind} file has {wanted & 0xFF}, magic number {expected}."));
        }

        Span<byte> sizeBytes = stackalloc byte[4 * dimensionCount];
        ReadHeaderBytes(path, stream, sizeBytes, compressed);
        var dimensions = new int[dimensionCount];
        long itemLength = 1;
        for (int i = 0; i < dimensionCount; i++)
        {
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(sizeBytes[(4 * i)..]);
            if (dimensions[i] < 0 || (i > 0 && dimensions[i] == 0))
            {
                throw new InvalidDataException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"IDX file '{path}' declares an invalid size {dimensions[i]} for dimension {i}."));
            }

            if (i > 0)
            {
                itemLength *= dimensions[i];
                if (itemLength > Array.MaxLength)
                {
                    throw new InvalidDataException($"IDX file '{path}' declares items larger than {Array.MaxLength} bytes.");
                }
            }
        }

        return new IdxReader(path, stream, compressed, dimensions, (int)itemLength);
    }

    private static bool IsIdxElementType(byte type) => type is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E;

    private static void ReadHeaderBytes(string path, Stream stream, Span<byte> buffer, bool compressed)
    {
        int read;
        try
        {
            read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException error) when (compressed)
        {
            throw new InvalidDataException($"IDX file '{path}' has corrupt gzip data: {error.Message}", error);
        }

        if (read < buffer.Length)
        {
            throw new InvalidDataException($"IDX file '{path}' is truncated: it ends inside its header.");
        }
    }

    // Only a plain file's length is known without reading it: check it now rather than mid-training.
    // It must be exact: a corrupt size in the header would otherwise read the bytes as other images.
    private static void CheckPlainLength(IdxReader reader, long fileLength)
    {
        long headerLength = 4 + (4L * reader._dimensions.Length);
        long expected = headerLength + ((long)reader.ItemCount * reader.ItemLength);
        if (fileLength > expected)
        {
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX file '{reader.FilePath}' has {fileLength - expected} bytes after the {reader.ItemCount} items of {reader.ItemLength} bytes its header declares: the header or the file is corrupt."));
        }

        if (fileLength < expected)
        {
            long completeItems = Math.Max(0, fileLength - headerLength) / reader.ItemLength;
            throw new InvalidDataException(string.Create(
                CultureInfo.InvariantCulture,
                $"IDX file '{reader.FilePath}' is truncated: its header declares {reader.ItemCount} items of {reader.ItemLength} bytes ({expected} bytes in all) but the file has {fileLength} bytes, enough for {completeItems} items."));
        }
    }
}
