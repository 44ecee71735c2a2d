using System.IO.Compression;
using Microsoft.ML;

namespace ML.DeepExtensions.Scoring;

/// <summary>Loads a model zip with messages that say what is wrong with the file.</summary>
internal static class SavedModels
{
    public static (ITransformer Model, DataViewSchema? InputSchema, byte[] Bytes) Load(ModelOperationsCatalog catalog, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The model file '{path}' does not exist.", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            using (var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read))
            {
                if (!zip.Entries.Any(entry => entry.FullName.Replace('\\', '/').StartsWith("TransformerChain/", StringComparison.Ordinal)))
                {
                    throw new InvalidDataException($"'{path}' is a zip file but not an ML.NET model (it has no TransformerChain entry).");
                }
            }

            var model = catalog.Load(new MemoryStream(bytes, writable: false), out var schema);
            return (model, schema, bytes);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith('\''))
        {
            throw new InvalidDataException($"'{path}' is not an ML.NET model zip: {e.Message}", e);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or EndOfStreamException)
        {
            throw new InvalidDataException($"'{path}' cannot be loaded as an ML.NET model: {e.Message}", e);
        }
    }
}
