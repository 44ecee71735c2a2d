using System.Buffers.Binary;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Onnx.Proto;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

[TestClass]
public sealed class OnnxGraphBuilderTests
{
    [TestMethod]
    public void BuildWritesIrVersion8DefaultOpset17AndProducer()
    {
        var model = ModelProto.Parser.ParseFrom(CreateReluGraph().ToBytes());

        Assert.AreEqual(8L, model.IrVersion);
        Assert.HasCount(1, model.OpsetImport);
        Assert.AreEqual(string.Empty, model.OpsetImport[0].Domain);
        Assert.AreEqual(17L, model.OpsetImport[0].Version);
        Assert.AreEqual("ML.DeepExtensions", model.ProducerName);
        Assert.AreEqual(typeof(OnnxGraphBuilder).Assembly.GetName().Version!.ToString(), model.ProducerVersion);
    }

    [TestMethod]
    public void BuildWritesMetadataInOrder()
    {
        var graph = CreateReluGraph();
        graph.AddMetadata("task", "multiclass");
        graph.AddMetadata("classes", "a,b,c");

        var model = ModelProto.Parser.ParseFrom(graph.ToBytes());

        Assert.AreEqual("task=multiclass;classes=a,b,c", string.Join(";", model.MetadataProps.Select(p => $"{p.Key}={p.Value}")));
        Assert.ThrowsExactly<ArgumentException>(() => graph.AddMetadata("task", "again"));
    }

    [TestMethod]
    public void AddInputWritesFixedSymbolicAndScalarShapes()
    {
        var graph = new OnnxGraphBuilder();
        graph.AddInput("batch", OnnxElementType.Float, "N", 4);
        graph.AddInput("scalar", OnnxElementType.Int64);
        graph.AddInput("text", OnnxElementType.String, OnnxDim.Unknown);
        graph.AddOutput("batch", OnnxElementType.Float, "N", 4);

        var inputs = ModelProto.Parser.ParseFrom(graph.ToBytes()).Graph.Input;

        var batch = inputs[0].Type.TensorType;
        Assert.AreEqual((int)OnnxElementType.Float, batch.ElemType);
        Assert.AreEqual("N", batch.Shape.Dim[0].DimParam);
        Assert.AreEqual(4L, batch.Shape.Dim[1].DimValue);
        var scalar = inputs[1].Type.TensorType;
        Assert.AreEqual((int)OnnxElementType.Int64, scalar.ElemType);
        Assert.IsNotNull(scalar.Shape, "a scalar has a shape with no dimensions, not a missing shape");
        Assert.IsEmpty(scalar.Shape.Dim);
        Assert.AreEqual(TensorShapeProto.Types.Dimension.ValueOneofCase.None, inputs[2].Type.TensorType.Shape.Dim[0].ValueCase);
    }

    [TestMethod]
    public void AddInputNameInUseThrows()
    {
        var graph = new OnnxGraphBuilder();
        graph.AddInput("x", OnnxElementType.Float, 2);

        Assert.ThrowsExactly<ArgumentException>(() => graph.AddInput("x", OnnxElementType.Float, 2));
    }

    [TestMethod]
    public void AddInitializerFromFloatTensorStoresLittleEndianRawData()
    {
        using var scope = NewDisposeScope();
        var graph = new OnnxGraphBuilder();
        var name = graph.AddInitializer("weights", tensor(new[] { 1.5f, -2f, 3.25f, 0f, 1e-3f, 7f }).reshape(2, 3));

        var initializer = graph.Build(requireInputsAndOutputs: false).Graph.Initializer.Single(t => t.Name == name);

        Assert.AreEqual((int)OnnxElementType.Float, initializer.DataType);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, initializer.Dims.ToArray());
        var bytes = initializer.RawData.ToByteArray();
        var values = Enumerable.Range(0, 6).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
        CollectionAssert.AreEqual(new[] { 1.5f, -2f, 3.25f, 0f, 1e-3f, 7f }, values);
        Assert.AreEqual("Float[2,3]", graph.TryGetType(name)?.ToString());
    }

    [TestMethod]
    public void AddInitializerFromTransposedInt64TensorCopiesLogicalOrder()
    {
        using var scope = NewDisposeScope();
        var graph = new OnnxGraphBuilder();
        // A transposed view is not contiguous: the copy must follow the logical order.
        var name = graph.AddInitializer("indices", tensor(new long[] { 1, 2, 3, 4, 5, 6 }).reshape(2, 3).t());

        var initializer = graph.Build(requireInputsAndOutputs: false).Graph.Initializer.Single(t => t.Name == name);

        Assert.AreEqual((int)OnnxElementType.Int64, initializer.DataType);
        CollectionAssert.AreEqual(new long[] { 3, 2 }, initializer.Dims.ToArray());
        var bytes = initializer.RawData.ToByteArray();
        var values = Enumerable.Range(0, 6).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * 8))).ToArray();
        CollectionAssert.AreEqual(new long[] { 1, 4, 2, 5, 3, 6 }, values);
    }

    [TestMethod]
    public void AddInitializerUnsupportedTensorTypeThrowsNotSupported()
    {
        using var scope = NewDisposeScope();
        var graph = new OnnxGraphBuilder();

        Assert.ThrowsExactly<NotSupportedException>(() => graph.AddInitializer("half", ones(2, ScalarType.Float16)));
    }

    [TestMethod]
    public void AddInitializerValueCountNotMatchingDimsThrows()
    {
        var graph = new OnnxGraphBuilder();

        Assert.ThrowsExactly<ArgumentException>(() => graph.AddInitializer("w", [1f, 2f, 3f], [2, 2]));
        Assert.ThrowsExactly<ArgumentException>(() => graph.AddInitializer("s", [1f, 2f], []));
    }

    [TestMethod]
    public void AddInitializerStringsStoresUtf8StringData()
    {
        var graph = new OnnxGraphBuilder();
        var name = graph.AddInitializer("classes", ["cat", "dög", ""], [3]);

        var initializer = graph.Build(requireInputsAndOutputs: false).Graph.Initializer.Single(t => t.Name == name);

        Assert.AreEqual((int)OnnxElementType.String, initializer.DataType);
        Assert.AreEqual("cat|dög|", string.Join("|", initializer.StringData.Select(s => s.ToStringUtf8())));
    }

    [TestMethod]
    public void AddNodeRepeatedHintsGetUniqueOutputAndNodeNames()
    {
        var graph = new OnnxGraphBuilder();
        var x = graph.AddInput("x", OnnxElementType.Float, "N", 2);

        var first = graph.AddNode("Relu", [x], nameHint: "act");
        var second = graph.AddNode("Relu", [first], nameHint: "act");
        var third = graph.AddNode("Relu", [second], nameHint: "act");
        var unnamed = graph.AddNode("Relu", [third]);
        var bad = graph.AddNode("Relu", [unnamed], nameHint: "has space/é");

        Assert.AreEqual("act act_1 act_2 Relu", string.Join(" ", first, second, third, unnamed));
        Assert.AreEqual("has_space/_", bad);
        var nodeNames = graph.Build(requireInputsAndOutputs: false).Graph.Node.Select(n => n.Name).ToList();
        CollectionAssert.AllItemsAreUnique(nodeNames);
    }

    [TestMethod]
    public void AddNodeUndefinedInputThrows()
    {
        var graph = new OnnxGraphBuilder();
        graph.AddInput("x", OnnxElementType.Float, 2);

        Assert.ThrowsExactly<ArgumentException>(() => graph.AddNode("Relu", ["y"]));
    }

    [TestMethod]
    public void AddNodeWritesTypedAttributes()
    {
        using var scope = NewDisposeScope();
        var graph = new OnnxGraphBuilder();
        var x = graph.AddInput("x", OnnxElementType.Float, 2);
        graph.AddNode("Custom", [x],
        [
            OnnxAttribute.Int("i", 3),
            OnnxAttribute.Float("f", 0.5f),
            OnnxAttribute.String("s", "text"),
            OnnxAttribute.Ints("is", [1, 2]),
            OnnxAttribute.Floats("fs", [0.25f]),
            OnnxAttribute.Tensor("t", [1f, 2f], [2]),
            OnnxAttribute.Tensor("tt", tensor(new long[] { 7 })),
        ]);

        var attributes = graph.Build(requireInputsAndOutputs: false).Graph.Node.Single().Attribute.ToDictionary(a => a.Name);

        Assert.AreEqual(3L, attributes["i"].I);
        Assert.AreEqual(AttributeProto.Types.AttributeType.Int, attributes["i"].Type);
        Assert.AreEqual(0.5f, attributes["f"].F);
        Assert.AreEqual("text", attributes["s"].S.ToStringUtf8());
        CollectionAssert.AreEqual(new long[] { 1, 2 }, attributes["is"].Ints.ToArray());
        Assert.AreEqual(0.25f, attributes["fs"].Floats.Single());
        Assert.AreEqual(AttributeProto.Types.AttributeType.Tensor, attributes["t"].Type);
        CollectionAssert.AreEqual(new long[] { 2 }, attributes["t"].T.Dims.ToArray());
        Assert.AreEqual((int)OnnxElementType.Int64, attributes["tt"].T.DataType);
    }

    [TestMethod]
    public void AddOutputWithOtherNameFeedsItThroughIdentity()
    {
        var graph = new OnnxGraphBuilder();
        var x = graph.AddInput("x", OnnxElementType.Float, "N", 2);
        var relu = graph.AddNode("Relu", [x]);

        var output = graph.AddOutput(relu, "Score", OnnxElementType.Float, "N", 2);

        Assert.AreEqual("Score", output);
        var built = graph.Build(requireInputsAndOutputs: false).Graph;
        Assert.AreEqual("Score", built.Output.Single().Name);
        Assert.AreEqual("Identity", built.Node.Last().OpType);
        Assert.ThrowsExactly<ArgumentException>(() => graph.AddOutput(relu, "Score", OnnxElementType.Float, "N", 2));
    }

    [TestMethod]
    public void BuildWithoutOutputsThrows()
    {
        var graph = new OnnxGraphBuilder();
        graph.AddInput("x", OnnxElementType.Float, 2);

        Assert.ThrowsExactly<InvalidOperationException>(() => graph.ToBytes());
    }

    [TestMethod]
    public void WriteToWritesTheSameBytesAsToBytes()
    {
        var graph = CreateReluGraph();
        using var stream = new MemoryStream();

        graph.WriteTo(stream);

        CollectionAssert.AreEqual(graph.ToBytes(), stream.ToArray());
    }

    [TestMethod]
    public void StringInitializerGatheredAtArgMaxReturnsClassNameAsScalarString()
    {
        // The multiclass head's label path: scores [K] → ArgMax → Gather from the class names → string scalar.
        var graph = new OnnxGraphBuilder();
        var scores = graph.AddInput("Score", OnnxElementType.Float, 4);
        var classNames = graph.AddInitializer("class_names", ["setosa", "versicolor", "virginica", "other"], [4]);
        var index = graph.AddNode("ArgMax", [scores], [OnnxAttribute.Int("axis", 0), OnnxAttribute.Int("keepdims", 0)], "predicted_index");
        var label = graph.AddNode("Gather", [classNames, index], [OnnxAttribute.Int("axis", 0)], "predicted_label");
        graph.AddOutput(label, "PredictedLabel", OnnxElementType.String);
        var model = graph.ToBytes();

        var (values, shape) = OnnxRuntimeRunner.RunString(model, "Score", [0.1f, 0.2f, 0.6f, 0.1f], [4], "PredictedLabel");
        var (first, _) = OnnxRuntimeRunner.RunString(model, "Score", [0.9f, 0.05f, 0.03f, 0.02f], [4], "PredictedLabel");

        Assert.IsEmpty(shape, "the label is a scalar");
        Assert.AreEqual("virginica", values.Single());
        Assert.AreEqual("setosa", first.Single());
    }

    private static OnnxGraphBuilder CreateReluGraph()
    {
        var graph = new OnnxGraphBuilder();
        var x = graph.AddInput("x", OnnxElementType.Float, "N", 3);
        graph.AddOutput(graph.AddNode("Relu", [x]), "y", OnnxElementType.Float, "N", 3);
        return graph;
    }
}
