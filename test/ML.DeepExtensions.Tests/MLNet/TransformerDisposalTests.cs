using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.Tabular;

namespace ML.DeepExtensions.Tests.MLNet;

/// <summary>
/// A fitted network's OnnxTransformer reads its model from a file in the temp folder. ML.NET 5
/// never deletes the copies it makes itself, so the chain owns its file and disposing the fitted
/// network deletes it: a long-running process that trains many models does not fill the temp folder.
/// </summary>
[TestClass]
public sealed class TransformerDisposalTests
{
    [TestMethod]
    public void DisposingAFittedNetworkDeletesItsModelFileAndFreesTheNetwork()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Rows(60);
        var data = TabularFixtures.KeyLabel(context).Fit(TabularFixtures.Load(context, rows)).Transform(TabularFixtures.Load(context, rows));
        var before = TempFiles();

        var model = context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [4], epochs: 1).Fit(data);
        byte[] onnx = model.OnnxModel.ToArray();
        var copies = TempFiles().Except(before).Where(f => SameBytes(f, onnx)).ToList();
        Assert.HasCount(1, copies, "the fitted model should have exactly one file holding its ONNX graph");
        Assert.HasCount(60, model.Transform(data).GetColumn<float[]>("Score").ToArray());

        model.Dispose();

        Assert.IsFalse(File.Exists(copies[0]), $"{copies[0]} is still there after Dispose");
        Assert.ThrowsExactly<InvalidOperationException>(() => model.Network.parameters().First().sum());
    }

    private static HashSet<string> TempFiles() => [.. Directory.EnumerateFiles(Path.GetTempPath())];

    private static bool SameBytes(string path, byte[] expected)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Length == expected.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(expected);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
