using Microsoft.ML.OnnxRuntime;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>Runs a serialized ONNX model in ONNX Runtime, the reference the exporter is checked against.</summary>
internal static class OnnxRuntimeRunner
{
    public static (float[] Values, long[] Shape) RunFloat(byte[] model, string inputName, float[] input, long[] inputShape, string outputName)
    {
        using var session = CreateSession(model);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [inputValue], [outputName]);
        var output = outputs[0];
        return (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
    }

    public static (string[] Values, long[] Shape) RunString(byte[] model, string inputName, float[] input, long[] inputShape, string outputName)
    {
        using var session = CreateSession(model);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [inputValue], [outputName]);
        var output = outputs[0];
        return (output.GetStringTensorAsArray(), output.GetTensorTypeAndShape().Shape);
    }

    private static InferenceSession CreateSession(byte[] model)
    {
        // One thread: the machine is shared and the models are tiny.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new InferenceSession(model, options);
    }
}
