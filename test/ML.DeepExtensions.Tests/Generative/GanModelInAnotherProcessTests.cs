using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tests.MLNet;

namespace ML.DeepExtensions.Tests.Generative;

/// <summary>
/// A saved conditional generator makes the same images, and a saved discriminator gives the same
/// scores, in test/ML.DeepExtensions.ModelLoadCheck, which references only ML.NET and ONNX Runtime.
/// </summary>
[TestClass]
public sealed class GanModelInAnotherProcessTests
{
    private static readonly string LoadCheckPath = typeof(GanModelInAnotherProcessTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModelLoadCheckPath").Value!;

    [TestMethod]
    public void TheSavedGeneratorMakesTheRequestedClassesAndTheDiscriminatorScoresInAFreshProcess()
    {
        var context = new MLContext(seed: 1);
        var data = GanFixtures.Keyed(context);
        var model = context.Transforms.ImageGan(GanFixtures.Options()).Fit(data);
        string[] labels = ["left", "diagonal", "top"];
        var sample = model.Sample(3, labels, seed: 11);
        var noise = sample.GetColumn<float[]>("Noise").ToArray();
        var expected = sample.GetColumn<float[]>("GeneratedImage").ToArray();

        string directory = Directory.CreateTempSubdirectory("mldx-gan-loadcheck-").FullName;
        try
        {
            string modelPath = Path.Combine(directory, "generator.zip");
            string rowsPath = Path.Combine(directory, "noise.csv");
            context.Model.Save(model.Generator, model.GeneratorInputSchema, modelPath);
            File.WriteAllLines(rowsPath, noise.Select((n, i) =>
                string.Join(',', n.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + ";" + labels[i]));

            var output = Run("--generator", modelPath, rowsPath);
            Assert.AreEqual("GeneratedImage", output[0]);
            Assert.HasCount(4, output);
            for (int i = 0; i < 3; i++)
            {
                var pixels = output[i + 1].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                CollectionAssert.AreEqual(expected[i], pixels, $"row {i} ({labels[i]})");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        var features = data.GetColumn<float[]>("Features").Take(5).ToArray();
        var scores = model.Transform(data).GetColumn<float>("Score").Take(5).ToArray();
        var scored = SavedModelInAnotherProcessTests.ScoreElsewhere(context, model, data.Schema, features);
        Assert.AreEqual("Score", scored[0]);
        CollectionAssert.AreEqual(scores, scored.Skip(1).Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray());
    }

    private static string[] Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(LoadCheckPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.IsTrue(process.WaitForExit(120_000), "the load-check program did not finish in time");
        Assert.AreEqual(0, process.ExitCode, stderr.Result);
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    }
}
