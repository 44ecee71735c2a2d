using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

/// <summary>
/// --language-model &lt;step.onnx&gt; &lt;prompts.txt&gt; &lt;length&gt;: greedy generation with a character
/// language model's per-step graph on ONNX Runtime alone. The vocabulary comes from the graph's metadata
/// (id 0 unknown, id 1 end of text, then the characters); each prompt line is read after the end-of-text id,
/// then the most likely character (never the unknown one) is appended until the length or the end of text.
/// Prints one continuation per line, with line breaks and tabs escaped as \n and \t.
/// </summary>
internal static class LanguageModelGenerate
{
    public static int Run(string modelPath, string promptsPath, int length)
    {
        using var session = new InferenceSession(modelPath);
        string characters = JsonSerializer.Deserialize<string>(session.ModelMetadata.CustomMetadataMap["ml_deepextensions.vocabulary"])!;
        var dims = session.InputMetadata["Hidden"].Dimensions;
        int layers = dims[0], units = dims[2];
        bool hasCell = session.InputMetadata.ContainsKey("Cell");
        foreach (string prompt in File.ReadAllLines(promptsPath))
        {
            var hidden = new float[layers * units];
            var cell = new float[layers * units];
            float[] logits = Step(session, 1, hidden, cell, hasCell, layers, units);
            foreach (char c in prompt)
            {
                int index = characters.IndexOf(c, StringComparison.Ordinal);
                logits = Step(session, index < 0 ? 0 : index + 2, hidden, cell, hasCell, layers, units);
            }

            var text = new StringBuilder();
            while (text.Length < length)
            {
                int best = 1;
                for (int i = 2; i < logits.Length; i++)
                {
                    if (logits[i] > logits[best])
                    {
                        best = i;
                    }
                }

                if (best == 1)
                {
                    break;
                }

                text.Append(characters[best - 2]);
                logits = Step(session, best, hidden, cell, hasCell, layers, units);
            }

            Console.WriteLine(text.ToString().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal));
        }

        return 0;
    }

    private static float[] Step(InferenceSession session, long id, float[] hidden, float[] cell, bool hasCell, int layers, int units)
    {
        long[] shape = [layers, 1, units];
        using var idValue = OrtValue.CreateTensorValueFromMemory(new[] { id }, [1]);
        using var hiddenValue = OrtValue.CreateTensorValueFromMemory(hidden, shape);
        using var cellValue = OrtValue.CreateTensorValueFromMemory(cell, shape);
        var inputs = new Dictionary<string, OrtValue> { ["CharacterId"] = idValue, ["Hidden"] = hiddenValue };
        if (hasCell)
        {
            inputs["Cell"] = cellValue;
        }

        string[] outputs = hasCell ? ["Logits", "HiddenOut", "CellOut"] : ["Logits", "HiddenOut"];
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, inputs, outputs);
        results[1].GetTensorDataAsSpan<float>().CopyTo(hidden);
        if (hasCell)
        {
            results[2].GetTensorDataAsSpan<float>().CopyTo(cell);
        }

        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
