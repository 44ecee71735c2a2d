using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Tests.MLNet;

[TestClass]
public sealed class OnnxScoringChainTests
{
    [TestMethod]
    public void TheModelFileIsNeverNamedLikeAnOrtModelAndIsDeletedOnDispose()
    {
        // ML.NET's own random temp names end in ".ort" once in 32,768 loads, and ONNX Runtime then
        // misreads the file (dotnet/machinelearning#7339); the chain's own file has a fixed extension.
        var file = TempModelFile.Write([1, 2, 3]);
        Assert.AreEqual(".tmp", Path.GetExtension(file.Path));
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(file.Path));

        file.Dispose();
        Assert.IsFalse(File.Exists(file.Path));
        file.Dispose();
    }
}
