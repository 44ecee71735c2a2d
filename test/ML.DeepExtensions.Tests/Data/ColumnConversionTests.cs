using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Data;

[TestClass]
public sealed class ColumnConversionTests
{
    private static readonly BatchSourceOptions InOrder = new() { BatchSize = 4, Shuffle = false };

    public sealed class VectorRow
    {
        [VectorType(3)]
        public float[] Floats { get; set; } = [];

        [VectorType(3)]
        public double[] Doubles { get; set; } = [];

        [VectorType(3)]
        public int[] Ints { get; set; } = [];

        [VectorType(12)]
        public float[] Image { get; set; } = [];

        public string Text { get; set; } = "";

        public float[] Ragged { get; set; } = [];
    }

    public sealed class LabelRow
    {
        public string Label { get; set; } = "";

        public float Value { get; set; }
    }

    private static DataViewBatchSource Source(IDataView data, params BatchColumn[] columns) => new(data, columns, InOrder);

    private static IDataView Vectors(int rows)
    {
        var items = Enumerable.Range(0, rows).Select(r => new VectorRow
        {
            Floats = [r, r + 0.5f, -r],
            Doubles = [r * 2.0, 1e-3, -7.25],
            Ints = [r, -r, 1000],
            Image = Enumerable.Range(0, 12).Select(i => (float)(r * 100 + i)).ToArray(),
            Text = $"row {r}",
            Ragged = new float[r + 1],
        });
        return new MLContext(seed: 1).Data.LoadFromEnumerable(items.ToList());
    }

    [TestMethod]
    public void Float32ConvertsEveryNumericScalarTypeAndBoolean()
    {
        var view = new GeneratedDataView(
            6,
            GeneratedColumn.Scalar("f", NumberDataViewType.Single, r => r + 0.25f),
            GeneratedColumn.Scalar("d", NumberDataViewType.Double, r => r * 1.5),
            GeneratedColumn.Scalar("i1", NumberDataViewType.SByte, r => (sbyte)(-r)),
            GeneratedColumn.Scalar("u1", NumberDataViewType.Byte, r => (byte)(250 + r)),
            GeneratedColumn.Scalar("i2", NumberDataViewType.Int16, r => (short)(-1000 * r)),
            GeneratedColumn.Scalar("u2", NumberDataViewType.UInt16, r => (ushort)(60000 + r)),
            GeneratedColumn.Scalar("i4", NumberDataViewType.Int32, r => (int)(-100000 * r)),
            GeneratedColumn.Scalar("u4", NumberDataViewType.UInt32, r => (uint)(4000000 + r)),
            GeneratedColumn.Scalar("i8", NumberDataViewType.Int64, r => -r * 3),
            GeneratedColumn.Scalar("u8", NumberDataViewType.UInt64, r => (ulong)r * 5),
            GeneratedColumn.Scalar("b", BooleanDataViewType.Instance, r => r % 2 == 1));
        string[] names = ["f", "d", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "b"];
        var epoch = EpochData.Read(Source(view, names.Select(n => new BatchColumn(n, n)).ToArray()));

        Expect.Values(epoch.BatchSizes, 4, 2);
        foreach (string name in names)
        {
            Assert.AreEqual(ScalarType.Float32, epoch.Types[name], name);
            Assert.AreEqual("[4]", $"[{string.Join(", ", epoch.FirstShapes[name])}]", name);
        }

        var rows = Enumerable.Range(0, 6).ToArray();
        CollectionAssert.AreEqual(rows.Select(r => r + 0.25f).ToArray(), epoch.F("f"));
        CollectionAssert.AreEqual(rows.Select(r => r * 1.5f).ToArray(), epoch.F("d"));
        CollectionAssert.AreEqual(rows.Select(r => (float)-r).ToArray(), epoch.F("i1"));
        CollectionAssert.AreEqual(rows.Select(r => 250f + r).ToArray(), epoch.F("u1"));
        CollectionAssert.AreEqual(rows.Select(r => -1000f * r).ToArray(), epoch.F("i2"));
        CollectionAssert.AreEqual(rows.Select(r => 60000f + r).ToArray(), epoch.F("u2"));
        CollectionAssert.AreEqual(rows.Select(r => -100000f * r).ToArray(), epoch.F("i4"));
        CollectionAssert.AreEqual(rows.Select(r => 4000000f + r).ToArray(), epoch.F("u4"));
        CollectionAssert.AreEqual(rows.Select(r => -3f * r).ToArray(), epoch.F("i8"));
        CollectionAssert.AreEqual(rows.Select(r => 5f * r).ToArray(), epoch.F("u8"));
        CollectionAssert.AreEqual(rows.Select(r => r % 2 == 1 ? 1f : 0f).ToArray(), epoch.F("b"));
    }

    [TestMethod]
    public void Float32KnownSizeVectorsGiveRowsByFeatures()
    {
        var epoch = EpochData.Read(Source(Vectors(5),
            new BatchColumn("s", "Floats"), new BatchColumn("d", "Doubles"), new BatchColumn("i", "Ints")));

        Expect.Values(epoch.FirstShapes["s"], 4, 3);
        Expect.Values(epoch.FirstShapes["d"], 4, 3);
        var rows = Enumerable.Range(0, 5).ToArray();
        CollectionAssert.AreEqual(rows.SelectMany(r => new[] { r, r + 0.5f, -r }).ToArray(), epoch.F("s"));
        CollectionAssert.AreEqual(rows.SelectMany(r => new[] { r * 2f, 1e-3f, -7.25f }).ToArray(), epoch.F("d"));
        CollectionAssert.AreEqual(rows.SelectMany(r => new[] { (float)r, -r, 1000f }).ToArray(), epoch.F("i"));
    }

    [TestMethod]
    public void Float32SparseVectorsAreDensified()
    {
        var view = new GeneratedDataView(
            3,
            GeneratedColumn.Sparse<float>("sf", NumberDataViewType.Single, 5, r => r == 1 ? [] : [(0, 1f + r), (3, -2f)]),
            GeneratedColumn.Sparse<int>("si", NumberDataViewType.Int32, 4, r => [((int)r, 7)]),
            GeneratedColumn.Sparse<bool>("sb", BooleanDataViewType.Instance, 3, r => [(2, true)]));
        var epoch = EpochData.Read(Source(view, new BatchColumn("sf", "sf"), new BatchColumn("si", "si"), new BatchColumn("sb", "sb")));

        Expect.Values(epoch.F("sf"), 1, 0, 0, -2, 0, 0, 0, 0, 0, 0, 3, 0, 0, -2, 0);
        Expect.Values(epoch.F("si"), 7, 0, 0, 0, 0, 7, 0, 0, 0, 0, 7, 0);
        Expect.Values(epoch.F("sb"), 0, 0, 1, 0, 0, 1, 0, 0, 1);
    }

    [TestMethod]
    public void Float32DeclaredShapeReshapesEachRowInOrder()
    {
        var source = Source(Vectors(3), BatchColumn.Features("Image", [3, 2, 2]));
        var epoch = EpochData.Read(source);

        Expect.Values(epoch.FirstShapes[BatchRoles.Features], 3, 3, 2, 2);
        Expect.Values(source.GetRowShape(BatchRoles.Features), 3, 2, 2);
        CollectionAssert.AreEqual(
            Enumerable.Range(0, 3).SelectMany(r => Enumerable.Range(0, 12).Select(i => (float)(r * 100 + i))).ToArray(),
            epoch.F(BatchRoles.Features));
    }

    [TestMethod]
    public void Float32ScalarWithShapeOfOneGivesColumnTensor()
    {
        var view = new GeneratedDataView(2, GeneratedColumn.Scalar("y", NumberDataViewType.Single, r => (float)r));
        var epoch = EpochData.Read(Source(view, BatchColumn.RegressionLabel("y", [1])));

        Expect.Values(epoch.FirstShapes[BatchRoles.Label], 2, 1);
    }

    [TestMethod]
    public void DeclaredShapeNotMatchingVectorSizeThrowsNamingColumnAndSizes()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Source(Vectors(1), BatchColumn.Features("Image", [1, 28, 28])));

        Assert.Contains("'Image'", error.Message);
        Assert.Contains("784", error.Message);
        Assert.Contains("12 value(s) per row", error.Message);
    }

    [TestMethod]
    public void ClassIndexKeyGivesZeroBasedInt64()
    {
        var ml = new MLContext(seed: 1);
        var rows = "cat dog cat bird dog".Split(' ').Select(l => new LabelRow { Label = l }).ToList();
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var epoch = EpochData.Read(Source(keyed, BatchColumn.ClassLabel()));

        Assert.AreEqual(ScalarType.Int64, epoch.Types[BatchRoles.Label]);
        Expect.Values(epoch.FirstShapes[BatchRoles.Label], 4);
        // MapValueToKey numbers values in order of appearance: cat = 1, dog = 2, bird = 3.
        Expect.Values(epoch.L(BatchRoles.Label), 0, 1, 0, 2, 1);
    }

    [TestMethod]
    public void ClassIndexEveryKeyRawTypeAndKeyVectors()
    {
        var view = new GeneratedDataView(
            3,
            GeneratedColumn.Scalar("k1", new KeyDataViewType(typeof(byte), 4), r => (byte)(r + 1)),
            GeneratedColumn.Scalar("k2", new KeyDataViewType(typeof(ushort), 4), r => (ushort)(r + 2)),
            GeneratedColumn.Scalar("k4", new KeyDataViewType(typeof(uint), 4), r => (uint)(4 - r)),
            GeneratedColumn.Scalar("k8", new KeyDataViewType(typeof(ulong), 4), r => 1UL),
            GeneratedColumn.Dense<uint>("kv", new KeyDataViewType(typeof(uint), 9), 2, (r, v) => { v[0] = (uint)(r + 1); v[1] = 9; }));
        var epoch = EpochData.Read(Source(view,
            new BatchColumn("k1", "k1", BatchColumnConversion.ClassIndex),
            new BatchColumn("k2", "k2", BatchColumnConversion.ClassIndex),
            new BatchColumn("k4", "k4", BatchColumnConversion.ClassIndex),
            new BatchColumn("k8", "k8", BatchColumnConversion.ClassIndex),
            new BatchColumn("kv", "kv", BatchColumnConversion.ClassIndex)));

        Expect.Values(epoch.L("k1"), 0, 1, 2);
        Expect.Values(epoch.L("k2"), 1, 2, 3);
        Expect.Values(epoch.L("k4"), 3, 2, 1);
        Expect.Values(epoch.L("k8"), 0, 0, 0);
        Expect.Values(epoch.FirstShapes["kv"], 3, 2);
        Expect.Values(epoch.L("kv"), 0, 8, 1, 8, 2, 8);
    }

    [TestMethod]
    public void ClassIndexBooleanGivesFalseZeroTrueOne()
    {
        var view = new GeneratedDataView(4, GeneratedColumn.Scalar("Label", BooleanDataViewType.Instance, r => r is 1 or 2));
        var epoch = EpochData.Read(Source(view, BatchColumn.ClassLabel()));

        Assert.AreEqual(ScalarType.Int64, epoch.Types[BatchRoles.Label]);
        Expect.Values(epoch.L(BatchRoles.Label), 0, 1, 1, 0);
    }

    [TestMethod]
    public void ClassIndexMissingKeyZeroThrowsNamingColumnAndRow()
    {
        var view = new GeneratedDataView(10, GeneratedColumn.Scalar("Label", new KeyDataViewType(typeof(uint), 3), r => r == 6 ? 0u : 1u));
        var error = Assert.ThrowsExactly<DataValidationException>(() => EpochData.Read(Source(view, BatchColumn.ClassLabel())));

        Assert.Contains("'Label'", error.Message);
        Assert.Contains("row 6", error.Message);
        Assert.Contains("missing key", error.Message);
        Assert.AreEqual(6L, error.RowPosition);
        Assert.AreEqual("Label", error.ColumnName);
    }

    [TestMethod]
    public void BinaryTargetBooleanSingleAndDoubleGiveFloatZeroOne()
    {
        var view = new GeneratedDataView(
            4,
            GeneratedColumn.Scalar("b", BooleanDataViewType.Instance, r => r % 2 == 0),
            GeneratedColumn.Scalar("f", NumberDataViewType.Single, r => r < 2 ? 0f : 1f),
            GeneratedColumn.Scalar("d", NumberDataViewType.Double, r => r == 3 ? 1.0 : 0.0),
            GeneratedColumn.Dense<float>("mv", NumberDataViewType.Single, 2, (r, v) => { v[0] = 1; v[1] = 0; }));
        var epoch = EpochData.Read(Source(view,
            new BatchColumn("b", "b", BatchColumnConversion.BinaryTarget),
            new BatchColumn("f", "f", BatchColumnConversion.BinaryTarget),
            new BatchColumn("d", "d", BatchColumnConversion.BinaryTarget),
            new BatchColumn("mv", "mv", BatchColumnConversion.BinaryTarget)));

        Assert.AreEqual(ScalarType.Float32, epoch.Types["b"]);
        Expect.Values(epoch.F("b"), 1, 0, 1, 0);
        Expect.Values(epoch.F("f"), 0, 0, 1, 1);
        Expect.Values(epoch.F("d"), 0, 0, 0, 1);
        Expect.Values(epoch.FirstShapes["mv"], 4, 2);
    }

    [TestMethod]
    public void BinaryTargetValueOtherThanZeroOrOneThrowsNamingColumnAndRow()
    {
        var view = new GeneratedDataView(5, GeneratedColumn.Scalar("Label", NumberDataViewType.Single, r => r == 3 ? 2f : 1f));
        var error = Assert.ThrowsExactly<DataValidationException>(() => EpochData.Read(Source(view, BatchColumn.BinaryLabel())));

        Assert.Contains("'Label'", error.Message);
        Assert.Contains("row 3", error.Message);
        Assert.Contains("must be 0 or 1", error.Message);
    }

    [TestMethod]
    public void Float32NaNThrowsNamingColumnAndRow()
    {
        var view = new GeneratedDataView(100, GeneratedColumn.Scalar("x", NumberDataViewType.Double, r => r == 42 ? double.NaN : r));
        var error = Assert.ThrowsExactly<DataValidationException>(() => EpochData.Read(Source(view, BatchColumn.Features("x"))));

        Assert.Contains("column 'x'", error.Message);
        Assert.Contains("row 42", error.Message);
        Assert.Contains("NaN", error.Message);
        Assert.Contains("SkipRow", error.Message);
    }

    [TestMethod]
    public void Float32NaNInsideVectorThrowsNamingColumnRowAndElement()
    {
        var view = new GeneratedDataView(30, GeneratedColumn.Dense<float>("v", NumberDataViewType.Single, 20, (r, v) =>
        {
            v.Fill(1f);
            if (r == 17)
            {
                v[13] = float.NaN;
            }
        }));
        var error = Assert.ThrowsExactly<DataValidationException>(() => EpochData.Read(Source(view, BatchColumn.Features("v"))));

        Assert.Contains("column 'v'", error.Message);
        Assert.Contains("row 17", error.Message);
        Assert.Contains("element 13 of 20", error.Message);
    }

    [TestMethod]
    public void Float32InfinityAndDoubleOverflowAreErrors()
    {
        var infinite = new GeneratedDataView(5, GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => r == 2 ? float.PositiveInfinity : 0f));
        var error = Assert.ThrowsExactly<DataValidationException>(() => EpochData.Read(Source(infinite, BatchColumn.Features("x"))));
        Assert.Contains("row 2", error.Message);
        Assert.Contains("non-finite", error.Message);

        var huge = new GeneratedDataView(5, GeneratedColumn.Dense<double>("x", NumberDataViewType.Double, 2, (r, v) => { v[0] = 0; v[1] = r == 4 ? 1e300 : 0; }));
        error = Assert.ThrowsExactly<DataValidationException>(() => EpochData.Read(Source(huge, BatchColumn.Features("x"))));
        Assert.Contains("row 4", error.Message);
        Assert.Contains("1E+300", error.Message);
    }

    [TestMethod]
    public void SkipRowPolicyLeavesOutRowsWithMissingValues()
    {
        var view = new GeneratedDataView(
            10,
            GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => r == 1 ? float.NaN : r == 5 ? float.NegativeInfinity : r),
            GeneratedColumn.Scalar("Label", new KeyDataViewType(typeof(uint), 2), r => r == 8 ? 0u : 1u));
        var source = new DataViewBatchSource(view, [BatchColumn.Features("x"), BatchColumn.ClassLabel()],
            InOrder with { MissingValues = MissingValuePolicy.SkipRow });

        Assert.IsNull(source.RowCount, "rows to skip are unknown before a pass");
        var epoch = EpochData.Read(source);

        Expect.Values(epoch.F(BatchRoles.Features), 0, 2, 3, 4, 6, 7, 9);
        Expect.Values(epoch.BatchSizes, 4, 3);
        Assert.AreEqual(7L, source.RowCount);
    }

    [TestMethod]
    public void MissingColumnThrowsNamingItAndListingAvailableColumns()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Source(Vectors(1), BatchColumn.Features("Pixels")));

        Assert.Contains("no column named 'Pixels'", error.Message);
        Assert.Contains("'Floats'", error.Message);
        Assert.Contains("'Image'", error.Message);
        Assert.Contains("'Text'", error.Message);
    }

    [TestMethod]
    public void TextColumnThrowsNamingTypeAndSuggestingAConversion()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Source(Vectors(1), BatchColumn.Features("Text")));

        Assert.Contains("'Text'", error.Message);
        Assert.Contains("String", error.Message);
        Assert.Contains("ConvertType", error.Message);
    }

    [TestMethod]
    public void VariableSizeVectorThrowsSuggestingAFixedSize()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Source(Vectors(1), BatchColumn.Features("Ragged")));

        Assert.Contains("'Ragged'", error.Message);
        Assert.Contains("variable-size", error.Message);
        Assert.Contains("Concatenate", error.Message);
    }

    [TestMethod]
    public void WrongTypeForConversionSuggestsTheRightConversion()
    {
        var view = new GeneratedDataView(
            1,
            GeneratedColumn.Scalar("key", new KeyDataViewType(typeof(uint), 3), r => 1u),
            GeneratedColumn.Scalar("num", NumberDataViewType.Single, r => 1f),
            GeneratedColumn.Scalar("int", NumberDataViewType.Int32, r => 1));

        var keyAsFloat = Assert.ThrowsExactly<ArgumentException>(() => Source(view, BatchColumn.Features("key")));
        Assert.Contains("ClassIndex", keyAsFloat.Message);
        var floatAsClass = Assert.ThrowsExactly<ArgumentException>(() => Source(view, BatchColumn.ClassLabel("num")));
        Assert.Contains("MapValueToKey", floatAsClass.Message);
        var intAsBinary = Assert.ThrowsExactly<ArgumentException>(() => Source(view, BatchColumn.BinaryLabel("int")));
        Assert.Contains("'int'", intAsBinary.Message);
        Assert.Contains("Int32", intAsBinary.Message);
    }

    [TestMethod]
    public void RepeatedRoleIsRejected()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Source(Vectors(1), BatchColumn.Features("Floats"), BatchColumn.Features("Doubles")));

        Assert.Contains("'Features' is bound twice", error.Message);
    }

    [TestMethod]
    public void OnlyTheBoundColumnsAreRequestedFromTheCursor()
    {
        var view = new GeneratedDataView(
            5,
            GeneratedColumn.Forbidden("unused1"),
            GeneratedColumn.Scalar("x", NumberDataViewType.Single, r => (float)r),
            GeneratedColumn.Forbidden("unused2"),
            GeneratedColumn.Scalar("Label", BooleanDataViewType.Instance, r => true));
        var epoch = EpochData.Read(Source(view, BatchColumn.Features("x"), BatchColumn.BinaryLabel()));

        Assert.AreEqual(5, epoch.RowCount);
        CollectionAssert.AreEquivalent(new List<string> { "x", "Label" }, view.LastRequestedColumns!.ToArray());
    }
}
