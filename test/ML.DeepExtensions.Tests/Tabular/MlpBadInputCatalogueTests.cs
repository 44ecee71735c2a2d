using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Tabular;

/// <summary>
/// The MLP family's catalogue of bad input: every case is a clear managed exception naming the
/// column, row, file or setting (docs/reliability.md). A new kind of bad input gets a case here;
/// later families keep one such catalogue each (e.g. ImageClassifierBadInputCatalogueTests).
/// </summary>
[TestClass]
public sealed class MlpBadInputCatalogueTests
{
    private readonly MLContext _context = new(seed: 1);

    [TestMethod]
    public void AMissingLabelColumnIsNamed()
    {
        var data = TabularFixtures.Load(_context, TabularFixtures.Rows(20));
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(labelColumnName: "Species").Fit(data));
        StringAssert.Contains(error.Message, "'Species'");
        StringAssert.Contains(error.Message, "Features");
    }

    [TestMethod]
    public void ANonKeyMulticlassLabelSaysHowToFixIt()
    {
        var data = TabularFixtures.Load(_context, TabularFixtures.Rows(20));
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(labelColumnName: nameof(TabularFixtures.Row.Category)).Fit(data));
        StringAssert.Contains(error.Message, "needs a key column");
        StringAssert.Contains(error.Message, "MapValueToKey");
    }

    [TestMethod]
    public void AWrongTypedBinaryLabelIsNamed()
    {
        var data = TabularFixtures.Load(_context, TabularFixtures.Rows(20));
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.BinaryClassification.Trainers.Mlp(labelColumnName: nameof(TabularFixtures.Row.Target)).Fit(data));
        StringAssert.Contains(error.Message, "'Target'");
        StringAssert.Contains(error.Message, "Boolean");
    }

    [TestMethod]
    public void AWrongTypedRegressionLabelIsNamed()
    {
        var data = TabularFixtures.Load(_context, TabularFixtures.Rows(20));
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.Regression.Trainers.Mlp(labelColumnName: nameof(TabularFixtures.Row.IsPositive)).Fit(data));
        StringAssert.Contains(error.Message, "needs a Single label");
    }

    [TestMethod]
    public void FeaturesThatAreNotAKnownSizeSingleVectorAreRejected()
    {
        var data = _context.Data.LoadFromEnumerable(new[] { new ScalarRow { Features = 1, Label = true }, new ScalarRow { Features = 2, Label = false } });
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.BinaryClassification.Trainers.Mlp().Fit(data));
        StringAssert.Contains(error.Message, "known-size vector of Single");
        StringAssert.Contains(error.Message, "Concatenate");
    }

    [TestMethod]
    public void ValidationDataWithAnotherFeatureWidthIsRejected()
    {
        var train = KeyLabelled(TabularFixtures.Rows(30));
        var narrow = _context.Transforms.Conversion.MapValueToKey("Label", "Category")
            .Fit(_context.Data.LoadFromEnumerable(new[] { new NarrowRow { Category = "a" } }))
            .Transform(_context.Data.LoadFromEnumerable(new[] { new NarrowRow { Category = "a" } }));
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: 1).Fit(train, narrow));
        StringAssert.Contains(error.Message, "has shape [2] per row; the training data has [5]");
    }

    [TestMethod]
    public void ASingleClassLabelIsRejectedBeforeTraining()
    {
        var rows = TabularFixtures.Rows(30).Select(r => { r.IsPositive = true; return r; }).ToList();
        var data = _context.Transforms.CopyColumns("Label", "IsPositive").Fit(TabularFixtures.Load(_context, rows)).Transform(TabularFixtures.Load(_context, rows));
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.BinaryClassification.Trainers.Mlp().Fit(data));
        StringAssert.Contains(error.Message, "true in every training row");
    }

    [TestMethod]
    public void ASingleObservedMulticlassLabelIsRejected()
    {
        // The key knows three classes, but the training rows hold only one of them.
        var keys = TabularFixtures.KeyLabel(_context).Fit(TabularFixtures.Load(_context, TabularFixtures.Rows(30)));
        var rows = TabularFixtures.Rows(30).Select(r => { r.Category = "b"; return r; }).ToList();
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp().Fit(keys.Transform(TabularFixtures.Load(_context, rows))));
        StringAssert.Contains(error.Message, "single class in the training rows (b)");

        var oneKey = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp().Fit(KeyLabelled(rows)));
        StringAssert.Contains(oneKey.Message, "has 1 class(es)");
    }

    [TestMethod]
    public void EmptyDataIsRejected()
    {
        var data = _context.Data.LoadFromEnumerable(new List<TabularFixtures.Row>());
        var withLabel = _context.Transforms.CopyColumns("Label", "IsPositive").Fit(data).Transform(data);
        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.BinaryClassification.Trainers.Mlp().Fit(withLabel));
        StringAssert.Contains(error.Message, "no rows");
    }

    [TestMethod]
    public void ANaNFeatureNamesTheColumnAndRow()
    {
        var rows = TabularFixtures.Rows(30);
        rows[17].Features[2] = float.NaN;
        var error = Assert.ThrowsExactly<DataValidationException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: 1).Fit(KeyLabelled(rows)));
        StringAssert.Contains(error.Message, "'Features'");
        StringAssert.Contains(error.Message, "17");
    }

    [TestMethod]
    public void ANaNInTheValidationDataSaysItIsTheValidationData()
    {
        var validation = TabularFixtures.Rows(20, seed: 2);
        validation[9].Features[0] = float.NaN;
        var error = Assert.ThrowsExactly<DataValidationException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: 1)
            .Fit(KeyLabelled(TabularFixtures.Rows(30)), KeyLabelled(validation)));
        StringAssert.StartsWith(error.Message, "In the validation data: ");
        StringAssert.Contains(error.Message, "row 9");
        Assert.AreEqual("Features", error.ColumnName);
    }

    [TestMethod]
    public void RowsWithNaNCanBeSkippedByOption()
    {
        var rows = TabularFixtures.Rows(60);
        rows[17].Features[2] = float.NaN;
        var model = _context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions { Epochs = 1, Data = { SkipRowsWithMissingValues = true } }).Fit(KeyLabelled(rows));
        Assert.HasCount(1, model.History.Epochs);
    }

    [TestMethod]
    [DataRow(0, 10, "Epochs")]
    [DataRow(5, 0, "Data.BatchSize")]
    public void ZeroEpochsOrBatchSizeAreRejectedWhenTheTrainerIsCreated(int epochs, int batchSize, string name)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: epochs, batchSize: batchSize));
        Assert.AreEqual(name, error.ParamName);
    }

    [TestMethod]
    public void AnUnwritableCheckpointDirectoryFailsBeforeTraining()
    {
        string blocker = Path.GetTempFileName();
        try
        {
            var options = new MlpMulticlassOptions { Epochs = 1, Checkpoints = new CheckpointOptions { Directory = Path.Combine(blocker, "sub") } };
            var error = Assert.ThrowsExactly<InvalidOperationException>(() => _context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(TabularFixtures.Rows(20))));
            StringAssert.Contains(error.Message, "cannot be written");
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [TestMethod]
    public void ACorruptCheckpointIsRejectedByName()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
            var options = new MlpMulticlassOptions { Epochs = 2, ResumeFromCheckpoint = path };
            var error = Assert.ThrowsExactly<InvalidDataException>(() => _context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(TabularFixtures.Rows(20))));
            StringAssert.Contains(error.Message, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void CudaWithoutACudaBackendFailsClearly()
    {
        var options = new MlpMulticlassOptions { Epochs = 1, Device = TrainingDevice.Cuda };
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => _context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(TabularFixtures.Rows(20))));
        StringAssert.Contains(error.Message, "TorchSharp-cuda");
    }

    [TestMethod]
    public void GetOutputSchemaDescribesTheConventionalColumns()
    {
        var data = KeyLabelled(TabularFixtures.Rows(20));
        // ML.NET keeps SchemaShape.Create internal; pipelines call it for their estimators.
        var input = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.Invoke(null, [data.Schema])!;
        var shape = _context.MulticlassClassification.Trainers.Mlp().GetOutputSchema(input);

        var score = shape.Single(c => c.Name == "Score");
        var predicted = shape.Single(c => c.Name == "PredictedLabel");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.IsTrue(predicted.IsKey);
    }

    [TestMethod]
    public void DropLastPartialBatchWithABatchLargerThanTheDataNamesBothNumbers()
    {
        var options = new MlpMulticlassOptions { Epochs = 1, Data = { BatchSize = 64, DropLastPartialBatch = true } };

        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(TabularFixtures.Rows(50))));

        StringAssert.Contains(error.Message, "BatchSize (64) is larger than the 50 training rows");
        StringAssert.Contains(error.Message, "DropLastPartialBatch");
    }

    [TestMethod]
    public void ABatchSizeOfIntMaxValueTrainsOneBatchOfEveryRow()
    {
        var options = new MlpMulticlassOptions { Epochs = 2, HiddenLayers = [8] , Data = { BatchSize = int.MaxValue } };

        var model = _context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(TabularFixtures.Rows(50)));

        Assert.HasCount(2, model.History.Epochs);
        Assert.IsTrue(double.IsFinite(model.History["loss"][^1]));
    }

    [TestMethod]
    public void AValidationFractionThatHoldsOutNoRowsBlamesTheFractionNotAnArgument()
    {
        var options = new MlpMulticlassOptions { Epochs = 1, Data = { ValidationFraction = 0.0001 } };

        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(options).Fit(KeyLabelled(TabularFixtures.Rows(30))));

        StringAssert.Contains(error.Message, "ValidationFraction 0.0001 held out none of the 30 training rows");
        Assert.DoesNotContain("validationData", error.Message, StringComparison.Ordinal);
    }

    [TestMethod]
    public void EmptyValidationDataSaysItIsTheValidationData()
    {
        var keys = TabularFixtures.KeyLabel(_context).Fit(TabularFixtures.Load(_context, TabularFixtures.Rows(30)));
        var empty = keys.Transform(TabularFixtures.Load(_context, []));

        var error = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: 1)
            .Fit(keys.Transform(TabularFixtures.Load(_context, TabularFixtures.Rows(30))), empty));

        StringAssert.Contains(error.Message, "validation data passed to Fit has no rows");
    }

    [TestMethod]
    public void SchemaErrorsOfTheValidationDataSayTheyAreAboutTheValidationData()
    {
        var train = KeyLabelled(TabularFixtures.Rows(30));
        var noFeatures = _context.Transforms.DropColumns("Features").Fit(train).Transform(train);
        var scalarFeatures = _context.Data.LoadFromEnumerable(new[] { new ScalarRow { Features = 1, Label = true } });

        var missing = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: 1).Fit(train, noFeatures));
        var wrongType = Assert.ThrowsExactly<ArgumentException>(() => _context.MulticlassClassification.Trainers.Mlp(epochs: 1).Fit(train, scalarFeatures));

        StringAssert.StartsWith(missing.Message, "In the validation data passed to Fit: The features column 'Features' is not in the data");
        StringAssert.StartsWith(wrongType.Message, "In the validation data passed to Fit: The features column 'Features' is Single");
        Assert.AreEqual("validationData", missing.ParamName);
    }

    [TestMethod]
    public void AVariableSizeFeaturesColumnAtScoringTimeIsNamedWithTheTrainedSize()
    {
        var model = _context.MulticlassClassification.Trainers.Mlp(epochs: 1).Fit(KeyLabelled(TabularFixtures.Rows(30)));
        var variable = _context.Data.LoadFromEnumerable(new[] { new VariableRow { Features = [1, 2, 3, 4, 5] } });
        var narrow = _context.Data.LoadFromEnumerable(new[] { new NarrowRow() });

        var error = Assert.ThrowsExactly<ArgumentException>(() => model.Transform(variable));
        var narrowError = Assert.ThrowsExactly<ArgumentException>(() => model.Transform(narrow));

        StringAssert.Contains(error.Message, "The features column 'Features' is Vector<Single>");
        StringAssert.Contains(error.Message, "known-size vector of 5 Single values");
        StringAssert.Contains(error.Message, "[VectorType(5)]");
        StringAssert.Contains(narrowError.Message, "is Vector<Single, 2>");
    }

    private IDataView KeyLabelled(List<TabularFixtures.Row> rows)
    {
        var data = TabularFixtures.Load(_context, rows);
        return TabularFixtures.KeyLabel(_context).Fit(data).Transform(data);
    }

    private sealed class ScalarRow
    {
        public float Features { get; set; }

        public bool Label { get; set; }
    }

    private sealed class VariableRow
    {
        public float[] Features { get; set; } = [];
    }

    private sealed class NarrowRow
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [1, 2];

        public string Category { get; set; } = "";
    }
}
