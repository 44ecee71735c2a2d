using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace ML.DeepExtensions.Tests.Scoring;

[TestClass]
public sealed class DeployableOnnxTests
{
    [TestMethod]
    [DataRow("multiclass")]
    [DataRow("binary")]
    [DataRow("regression")]
    [DataRow("cnn")]
    public void TheExportScoresABatchLikeTransformAndPassesTheOnnxChecker(string kind)
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath(kind), out var inputSchema);
        var data = ScoringFixtures.TestData(context, kind, rows: 11);
        using var stream = new MemoryStream();

        context.Model.ExportDeployableOnnx(model, inputSchema, stream);

        var expected = model.Transform(data);
        var features = data.GetColumn<float[]>("Features").ToArray();
        using var session = new InferenceSession(stream.ToArray());
        var input = features.SelectMany(f => f).ToArray();
        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [features.Length, features[0].Length]);
        using var outputs = session.Run(new RunOptions(), ["Features"], [tensor], session.OutputNames);
        var byName = session.OutputNames.Zip(outputs).ToDictionary(p => p.First, p => p.Second);
        Assert.AreEqual("N", session.InputMetadata["Features"].SymbolicDimensions[0]);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        switch (kind)
        {
            case "binary":
                AssertClose(expected.GetColumn<float>("Score").ToArray(), byName["Score"].GetTensorDataAsSpan<float>().ToArray());
                AssertClose(expected.GetColumn<float>("Probability").ToArray(), byName["Probability"].GetTensorDataAsSpan<float>().ToArray());
                CollectionAssert.AreEqual(expected.GetColumn<bool>("PredictedLabel").ToArray(), byName["PredictedLabel"].GetTensorDataAsSpan<bool>().ToArray());
                Assert.AreEqual("binary", metadata["ml_deepextensions.task"]);
                break;
            case "regression":
                AssertClose(expected.GetColumn<float>("Score").ToArray(), byName["Score"].GetTensorDataAsSpan<float>().ToArray());
                Assert.AreEqual("regression", metadata["ml_deepextensions.task"]);
                break;
            default:
                var scores = expected.GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
                AssertClose(scores, byName["Score"].GetTensorDataAsSpan<float>().ToArray());
                var labels = context.Transforms.Conversion.MapKeyToValue("Name", "PredictedLabel").Fit(expected).Transform(expected)
                    .GetColumn<string>("Name").ToArray();
                CollectionAssert.AreEqual(labels, byName["PredictedLabel"].GetStringTensorAsArray());
                var names = JsonSerializer.Deserialize<string[]>(metadata["ml_deepextensions.class_names"])!;
                Assert.AreEqual(labels[0], names[byName["PredictedLabelIndex"].GetTensorDataAsSpan<long>()[0]]);
                Assert.AreEqual("multiclass", metadata["ml_deepextensions.task"]);
                break;
        }

        StringAssert.Contains(metadata["ml_deepextensions.inputs"], "\"Features\"");
        Assert.IsTrue(metadata.ContainsKey("ml_deepextensions.preprocessing"));
        RunOnnxChecker(stream.ToArray());
    }

    [TestMethod]
    public void TheImageExportDescribesItsRowLayout()
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath("cnn"), out var inputSchema);
        using var stream = new MemoryStream();

        context.Model.ExportDeployableOnnx(model, inputSchema, stream);

        using var session = new InferenceSession(stream.ToArray());
        var inputs = JsonDocument.Parse(session.ModelMetadata.CustomMetadataMap["ml_deepextensions.inputs"]).RootElement[0];
        CollectionAssert.AreEqual(new long[] { 1, 28, 28 }, inputs.GetProperty("row_layout").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        var classes = JsonSerializer.Deserialize<string[]>(session.ModelMetadata.CustomMetadataMap["ml_deepextensions.class_names"])!;
        Assert.AreEqual("Ankle boot", classes[^1]);
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        Assert.IsLessThanOrEqualTo(1e-5, expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max());
    }

    /// <summary>onnx.checker.check_model(full_check=True) of Debian's python3-onnx (installed by .ci/run).</summary>
    internal static void RunOnnxChecker(byte[] onnx)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mldx-deploy-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, onnx);
        try
        {
            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('checked')");
            start.ArgumentList.Add(path);
            using var process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.IsFalse(stderr.Contains("No module named 'onnx'", StringComparison.Ordinal), "Debian's python3-onnx is needed: apt-get install -y python3-onnx");
            Assert.AreEqual(0, process.ExitCode, stderr);
            StringAssert.Contains(stdout, "checked");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
