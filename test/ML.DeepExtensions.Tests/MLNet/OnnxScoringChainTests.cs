using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Tests.MLNet;

[TestClass]
public sealed class OnnxScoringChainTests
{
    [TestMethod]
    public void TheOrtFormatMisreadIsRecognisedAtAnyDepthAndNothingElseIs()
    {
        // The shape of the error ML.NET 5 raises when its random temp name ends in ".ort".
        var misread = new InvalidOperationException("Error initializing model :Microsoft.ML.OnnxRuntime.OnnxRuntimeException: ...",
            new InvalidOperationException("[ErrorCode:Fail] inference_session.cc:2226 operator() ORT model verification failed."));

        Assert.IsTrue(OnnxScoringChain.IsOrtFormatMisread(misread));
        Assert.IsFalse(OnnxScoringChain.IsOrtFormatMisread(new InvalidOperationException("Error initializing model: Type Error: Type (tensor(double)) of input parameter")));
    }
}
