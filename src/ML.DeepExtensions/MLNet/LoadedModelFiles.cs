using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// Frees a model this library loaded itself, including the temp files ML.NET 5 leaves behind:
/// loading an OnnxTransformer writes its model bytes to the temp folder, and its Dispose closes the
/// file without deleting it. The file's name is read from ML.NET's internal <c>OnnxModel.ModelStream</c>
/// (guarded by a test); if that member is gone the files stay, as they would anyway.
/// </summary>
internal static class LoadedModelFiles
{
    /// <summary>Disposes <paramref name="model"/> and deletes the temp files of its OnnxTransformers.</summary>
    public static void DisposeAndDelete(ITransformer model)
    {
        var files = TempFilesOf(model).ToList();
        (model as IDisposable)?.Dispose();
        foreach (string file in files)
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>The temp-folder model files of the OnnxTransformers in <paramref name="model"/>'s chain.</summary>
    internal static IEnumerable<string> TempFilesOf(ITransformer model)
    {
        string temp = Path.GetFullPath(Path.GetTempPath());
        foreach (var onnx in OnnxTransformers(model))
        {
            var onnxModel = typeof(OnnxTransformer).GetField("Model", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(onnx);
            var stream = onnxModel?.GetType().GetProperty("ModelStream", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(onnxModel) as FileStream;
            // Only ML.NET's own copies: a model the user applied from their own file is theirs.
            if (stream?.Name is { } name && Path.GetFullPath(name).StartsWith(temp, StringComparison.Ordinal))
            {
                yield return name;
            }
        }
    }

    private static IEnumerable<OnnxTransformer> OnnxTransformers(ITransformer model)
    {
        switch (model)
        {
            case OnnxTransformer onnx:
                yield return onnx;
                break;
            case IEnumerable<ITransformer> chain:
                foreach (var inner in chain.SelectMany(OnnxTransformers))
                {
                    yield return inner;
                }

                break;
        }
    }
}
