using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Tests.Tabular;

namespace ML.DeepExtensions.Tests.Scoring;

[TestClass]
public sealed class BatchScorerTests
{
    [TestMethod]
    [DataRow("multiclass", true)]
    [DataRow("binary", true)]
    [DataRow("regression", true)]
    [DataRow("cnn", true)]
    [DataRow("chain", true)]
    [DataRow("multiclass", false)]
    [DataRow("binary", false)]
    [DataRow("chain", false)]
    public void TheBatchedPathGivesTheColumnsAndValuesOfTransform(string kind, bool readAhead)
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath(kind), out _);
        var data = ScoringFixtures.TestData(context, kind);
        // 37 rows in batches of 8: four full batches and a partial one.
        using var scorer = context.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 8, IntraOpThreads = 1, ReadAhead = readAhead });

        var expected = model.Transform(data);
        var actual = scorer.Transform(data);

        AssertSameData(expected, actual);
    }

    [TestMethod]
    public void AZipPathLoadsAndScoresLikeTheLoadedModel()
    {
        var context = new MLContext(seed: 1);
        string path = ScoringFixtures.ModelPath("multiclass");
        using var scorer = context.Model.CreateBatchScorer(path, out var inputSchema);
        var data = ScoringFixtures.TestData(context, "multiclass");

        Assert.IsNotNull(inputSchema);
        AssertSameData(context.Model.Load(path, out _).Transform(data), scorer.Transform(data));
    }

    [TestMethod]
    public void AScorerThatLoadedTheZipDeletesMLNetsTempCopiesOnDispose()
    {
        var context = new MLContext(seed: 1);
        var scorer = context.Model.CreateBatchScorer(ScoringFixtures.ModelPath("chain"), out _);
        var copies = ML.DeepExtensions.MLNet.LoadedModelFiles.TempFilesOf(scorer.Model).ToList();
        Assert.IsNotEmpty(copies, "ML.NET's OnnxTransformer should read a temp copy of the graph (guard: its internal ModelStream moved)");
        Assert.IsTrue(copies.All(File.Exists));

        scorer.Dispose();

        Assert.IsFalse(copies.Any(File.Exists), string.Join(", ", copies.Where(File.Exists)));
    }

    [TestMethod]
    public void AScorerOverTheCallersModelLeavesTheModelUsable()
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath("multiclass"), out _);
        var data = ScoringFixtures.TestData(context, "multiclass");
        using (context.Model.CreateBatchScorer(model))
        {
        }

        Assert.HasCount(37, model.Transform(data).GetColumn<float[]>("Score").ToArray());
        (model as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void AFreshlyFittedModelScoresInBatchesToo()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Load(context, TabularFixtures.Rows(100));
        var model = TabularFixtures.KeyLabel(context).Append(context.MulticlassClassification.Trainers.Mlp(hiddenLayers: [8], epochs: 2)).Fit(rows);
        using var scorer = context.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 16 });
        var data = ScoringFixtures.TestData(context, "multiclass");

        AssertSameData(model.Transform(data), scorer.Transform(data));
    }

    [TestMethod]
    public void ReadAheadLeavesACoreToTheReadingThreadUnlessTheThreadCountIsGiven()
    {
        Assert.IsNull(new BatchScorerOptions().SessionThreads, "without read-ahead, ONNX Runtime's own default");
        Assert.AreEqual(Math.Max(1, Environment.ProcessorCount - 1), new BatchScorerOptions { ReadAhead = true }.SessionThreads);
        Assert.AreEqual(3, new BatchScorerOptions { ReadAhead = true, IntraOpThreads = 3 }.SessionThreads);
        Assert.AreEqual(2, new BatchScorerOptions { IntraOpThreads = 2 }.SessionThreads);
    }

    [TestMethod]
    public void WithoutReadAheadACursorReadsOnlyTheBatchItServes()
    {
        var context = new MLContext(seed: 1);
        var (scored, counting, output, session) = NetworkView(context, readAhead: false);
        using var _ = session;

        using var cursor = scored.GetRowCursor([output]);
        var getter = cursor.GetGetter<VBuffer<float>>(output);
        var score = default(VBuffer<float>);
        Assert.IsTrue(cursor.MoveNext());
        getter(ref score);

        Assert.AreEqual(10, counting.RowsRead, "the first row needs exactly the first batch");
        for (int i = 0; i < 10; i++)
        {
            Assert.IsTrue(cursor.MoveNext());
        }

        Assert.AreEqual(20, counting.RowsRead);
        Assert.AreEqual(89, Drain(cursor));
        Assert.AreEqual(100, counting.RowsRead);
    }

    [TestMethod]
    public void WithReadAheadACursorReadsTheNextBatchMeanwhileAndNoFurther()
    {
        var context = new MLContext(seed: 1);
        var (scored, counting, output, session) = NetworkView(context, readAhead: true);
        using var _ = session;

        using var cursor = scored.GetRowCursor([output]);
        Assert.IsTrue(cursor.MoveNext());

        // The second batch is read by the other thread without the cursor asking for it ...
        Assert.IsTrue(SpinWait.SpinUntil(() => counting.RowsRead == 20, TimeSpan.FromSeconds(10)), $"read {counting.RowsRead} rows");
        // ... and nothing beyond it while the first batch is still being served.
        Thread.Sleep(100);
        Assert.AreEqual(20, counting.RowsRead);
        for (int served = 2; served <= 100; served++)
        {
            Assert.IsTrue(cursor.MoveNext());
            int batchesServed = (served + 9) / 10;
            Assert.IsLessThanOrEqualTo((batchesServed + 1) * 10, counting.RowsRead, $"after {served} rows");
        }

        Assert.IsFalse(cursor.MoveNext());
        Assert.AreEqual(100, counting.RowsRead);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void ASourceErrorReachesTheCursorAtTheBatchThatFailed(bool readAhead)
    {
        var context = new MLContext(seed: 1);
        var (scored, counting, output, session) = NetworkView(context, readAhead, failAtRow: 25);
        using var _ = session;

        using var cursor = scored.GetRowCursor([output]);
        int served = 0;
        var e = Assert.ThrowsExactly<InvalidDataException>(() =>
        {
            while (cursor.MoveNext())
            {
                served++;
            }
        });

        StringAssert.Contains(e.Message, "row 25");
        Assert.AreEqual(20, served, "the two batches before the failing one are served whole");
        if (readAhead)
        {
            Assert.ThrowsExactly<InvalidDataException>(() => cursor.MoveNext(), "asking again fails again instead of waiting for the ended reading thread");
        }
    }

    [TestMethod]
    public void DisposingACursorMidwayStopsTheReadingThreadAndTheSource()
    {
        var context = new MLContext(seed: 1);
        var (scored, counting, output, session) = NetworkView(context, readAhead: true);
        using var _ = session;
        var cursor = scored.GetRowCursor([output]);
        for (int i = 0; i < 15; i++)
        {
            Assert.IsTrue(cursor.MoveNext());
        }

        cursor.Dispose();

        Assert.AreEqual(1, counting.CursorsDisposed);
        int read = counting.RowsRead;
        Thread.Sleep(100);
        Assert.AreEqual(read, counting.RowsRead, "no reading after Dispose returned");
        Assert.IsLessThanOrEqualTo(30, read);
    }

    /// <summary>The network's own view over a counting source (ML.NET transforms around it may read ahead on their own threads, within their own fixed buffers).</summary>
    private static (IDataView Scored, CountingDataView Counting, DataViewSchema.Column Output, BatchedSession Session) NetworkView(MLContext context, bool readAhead, int failAtRow = -1)
    {
        var model = context.Model.Load(ScoringFixtures.ModelPath("cnn"), out _);
        var network = ModelNetworks.Find(model).Steps[0].Batched!;
        var session = new BatchedSession(network, batchSize: 10, intraOpThreads: 1);
        var counting = new CountingDataView(ScoringFixtures.TestData(context, "cnn", rows: 100), failAtRow);
        var scored = new BatchedOnnxDataView(counting, session, new VectorDataViewType(NumberDataViewType.Single, (int)network.OutputWidth), readAhead);
        return (scored, counting, scored.Schema[network.OutputName], session);
    }

    private static int Drain(DataViewRowCursor cursor)
    {
        int rows = 0;
        while (cursor.MoveNext())
        {
            rows++;
        }

        return rows;
    }

    [TestMethod]
    public void AMissingFeaturesColumnIsNamed()
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath("multiclass"), out _);
        using var scorer = context.Model.CreateBatchScorer(model);
        var data = context.Data.LoadFromEnumerable(new[] { new NoFeatures { Category = "a" } });

        var e = Assert.ThrowsExactly<ArgumentException>(() => scorer.Transform(data));

        StringAssert.Contains(e.Message, "'Features'");
    }

    [TestMethod]
    public void AModelWithoutANetworkOfThisLibraryIsRefused()
    {
        var context = new MLContext(seed: 1);
        var rows = TabularFixtures.Load(context, TabularFixtures.Rows(50));
        var model = context.Transforms.NormalizeMinMax("Features").Fit(rows);

        var e = Assert.ThrowsExactly<ArgumentException>(() => context.Model.CreateBatchScorer(model));

        StringAssert.Contains(e.Message, "no network trained by ML.DeepExtensions");
    }

    [TestMethod]
    public void BadOptionsAreNamed()
    {
        var context = new MLContext(seed: 1);
        var model = context.Model.Load(ScoringFixtures.ModelPath("multiclass"), out _);

        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 0 }));

        StringAssert.Contains(e.Message, "BatchSize");
    }

    [TestMethod]
    public void ANonModelFileIsRefusedWithItsName()
    {
        var context = new MLContext(seed: 1);
        string path = Path.Combine(Path.GetTempPath(), $"mldx-not-a-model-{Guid.NewGuid():N}.zip");
        File.WriteAllText(path, "hello");
        try
        {
            var e = Assert.ThrowsExactly<InvalidDataException>(() => context.Model.CreateBatchScorer(path, out _));

            StringAssert.Contains(e.Message, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Same schema (names, types, hidden columns) and same values: floats within 1e-5, everything else equal.</summary>
    internal static void AssertSameData(IDataView expected, IDataView actual)
    {
        Assert.HasCount(expected.Schema.Count, actual.Schema);
        for (int c = 0; c < expected.Schema.Count; c++)
        {
            Assert.AreEqual(expected.Schema[c].Name, actual.Schema[c].Name);
            Assert.AreEqual(expected.Schema[c].Type, actual.Schema[c].Type, expected.Schema[c].Name);
            Assert.AreEqual(expected.Schema[c].IsHidden, actual.Schema[c].IsHidden, expected.Schema[c].Name);
        }

        var visible = expected.Schema.Where(c => !c.IsHidden).ToList();
        var expectedRows = Rows(expected, visible.Select(c => c.Name));
        var actualRows = Rows(actual, visible.Select(c => c.Name));
        Assert.HasCount(expectedRows.Count, actualRows);
        for (int r = 0; r < expectedRows.Count; r++)
        {
            for (int c = 0; c < visible.Count; c++)
            {
                AssertClose(expectedRows[r][c], actualRows[r][c], $"row {r}, column {visible[c].Name}");
            }
        }
    }

    private static void AssertClose(object expected, object actual, string where)
    {
        switch (expected)
        {
            case float e:
                Assert.IsLessThanOrEqualTo(1e-5, Math.Abs(e - (float)actual), where);
                break;
            case float[] e:
                var a = (float[])actual;
                Assert.HasCount(e.Length, a, where);
                Assert.IsLessThanOrEqualTo(1e-5, e.Zip(a, (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max(), where);
                break;
            case Array e:
                CollectionAssert.AreEqual(e, (Array)actual, where);
                break;
            default:
                Assert.AreEqual(expected, actual, where);
                break;
        }
    }

    private static List<object[]> Rows(IDataView data, IEnumerable<string> names)
    {
        var columns = names.Select(n => data.Schema[n]).ToList();
        var rows = new List<object[]>();
        using var cursor = data.GetRowCursor(columns);
        var getters = columns.Select(c => Reader(cursor, c)).ToList();
        while (cursor.MoveNext())
        {
            rows.Add(getters.Select(g => g()).ToArray());
        }

        return rows;
    }

    private static Func<object> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var raw = column.Type.RawType;
        var method = typeof(BatchScorerTests).GetMethod(
            raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>) ? nameof(VectorReader) : nameof(ValueReader),
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var type = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>) ? raw.GetGenericArguments()[0] : raw;
        return (Func<object>)method.MakeGenericMethod(type).Invoke(null, [cursor, column])!;
    }

    private static Func<object> ValueReader<T>(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getter = cursor.GetGetter<T>(column);
        return () =>
        {
            T value = default!;
            getter(ref value);
            return value is ReadOnlyMemory<char> text ? text.ToString() : value!;
        };
    }

    private static Func<object> VectorReader<T>(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        return () =>
        {
            VBuffer<T> value = default;
            getter(ref value);
            var dense = value.DenseValues().ToArray();
            return dense is ReadOnlyMemory<char>[] texts ? texts.Select(t => t.ToString()).ToArray() : dense;
        };
    }

    private sealed class NoFeatures
    {
        public string Category { get; set; } = "";
    }

    /// <summary>Counts how many rows the scorer pulled from its source (from any thread); optionally fails at a row.</summary>
    private sealed class CountingDataView(IDataView inner, int failAtRow = -1) : IDataView
    {
        private readonly int _failAtRow = failAtRow;
        private int _rowsRead;
        private int _cursorsDisposed;

        public int RowsRead => Volatile.Read(ref _rowsRead);

        public int CursorsDisposed => Volatile.Read(ref _cursorsDisposed);

        public DataViewSchema Schema => inner.Schema;

        public bool CanShuffle => false;

        public long? GetRowCount() => inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new Cursor(this, inner.GetRowCursor(columnsNeeded));

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded)];

        private sealed class Cursor(CountingDataView parent, DataViewRowCursor inner) : DataViewRowCursor
        {
            public override DataViewSchema Schema => inner.Schema;

            public override long Position => inner.Position;

            public override long Batch => inner.Batch;

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

            public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

            public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);

            public override bool MoveNext()
            {
                bool moved = inner.MoveNext();
                if (moved && inner.Position == parent._failAtRow)
                {
                    throw new InvalidDataException($"Bad value at row {parent._failAtRow}.");
                }

                if (moved)
                {
                    Interlocked.Increment(ref parent._rowsRead);
                }

                return moved;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                    Interlocked.Increment(ref parent._cursorsDisposed);
                }

                base.Dispose(disposing);
            }
        }
    }
}
