using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Tabular;
using ML.DeepExtensions.Tests.Tabular;

namespace ML.DeepExtensions.Tests.Supervised;

/// <summary>
/// The validation data's label key never replaces the training key (issue 12, item 2): the model's
/// classes come from the training data; a validation key with the same classes in another order, or
/// fewer of them, is mapped onto it; one with classes the training key lacks is an error.
/// </summary>
[TestClass]
public sealed class ValidationLabelKeyTests
{
    private readonly MLContext _context = new(seed: 1);

    [TestMethod]
    public void AValidationKeyWithAnExtraClassIsAnErrorNamingBothKeys()
    {
        var train = Keyed(TabularFixtures.Rows(60), ["a", "b", "c"]);
        var validation = Keyed(TabularFixtures.Rows(20, seed: 2), ["a", "b", "c", "d", "e"]);

        var error = Assert.ThrowsExactly<ArgumentException>(() => Trainer().Fit(train, validation));

        StringAssert.Contains(error.Message, "validation label column 'Label'");
        StringAssert.Contains(error.Message, "['a', 'b', 'c', 'd', 'e']");
        StringAssert.Contains(error.Message, "training label's key is ['a', 'b', 'c']");
        StringAssert.Contains(error.Message, "'d', 'e'");
        Assert.AreEqual("validationData", error.ParamName);
    }

    [TestMethod]
    public void AValidationKeyWithFewerClassesIsMappedAndTheModelKeepsTheTrainingClasses()
    {
        var train = Keyed(TabularFixtures.Rows(90), ["a", "b", "c"]);
        // Only classes c and a occur in the validation rows; its key is [c, a].
        var validationRows = TabularFixtures.Rows(40, seed: 2).Where(r => r.Category != "b").ToList();
        var validation = Keyed(validationRows, ["c", "a"]);

        var model = Trainer(epochs: 5).Fit(train, validation);

        var scored = model.Transform(train);
        Assert.AreEqual(3UL, ((KeyDataViewType)scored.Schema["PredictedLabel"].Type).Count);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, KeyNames(scored.Schema["PredictedLabel"]));
        Assert.AreEqual(ValidationAccuracy(model, validationRows), model.History["val_accuracy"][^1], 1e-9);
    }

    [TestMethod]
    public void AValidationKeyOfOneClassIsAccepted()
    {
        var train = Keyed(TabularFixtures.Rows(60), ["a", "b", "c"]);
        var validationRows = TabularFixtures.Rows(40, seed: 2).Where(r => r.Category == "a").ToList();

        var model = Trainer().Fit(train, Keyed(validationRows, ["a"]));

        Assert.AreEqual(ValidationAccuracy(model, validationRows), model.History["val_accuracy"][^1], 1e-9);
    }

    [TestMethod]
    public void AReorderedValidationKeyIsMappedSoValidationMetricsAreRight()
    {
        var train = Keyed(TabularFixtures.Rows(90), ["a", "b", "c"]);
        var validationRows = TabularFixtures.Rows(40, seed: 2);
        var reordered = Keyed(validationRows, ["c", "a", "b"]);

        var model = Trainer(epochs: 5).Fit(train, reordered);

        // The logged val_accuracy equals the accuracy of the returned model on those rows, scored
        // with the training key: it would not if key index 1 meant 'c' to the metrics and 'a' to the model.
        double expected = ValidationAccuracy(model, validationRows);
        Assert.IsGreaterThan(0.6, expected);
        Assert.AreEqual(expected, model.History["val_accuracy"][^1], 1e-9);
    }

    [TestMethod]
    public void AnIdenticalValidationKeyIsUsedAsItIs()
    {
        var keys = TabularFixtures.KeyLabel(_context).Fit(TabularFixtures.Load(_context, TabularFixtures.Rows(90)));
        var train = keys.Transform(TabularFixtures.Load(_context, TabularFixtures.Rows(90)));
        var validationRows = TabularFixtures.Rows(40, seed: 2);
        var validation = keys.Transform(TabularFixtures.Load(_context, validationRows));

        var model = Trainer(epochs: 5).Fit(train, validation);

        Assert.AreEqual(ValidationAccuracy(model, validationRows), model.History["val_accuracy"][^1], 1e-9);
    }

    [TestMethod]
    public void AValidationLabelOfAnotherTypeSaysItIsAboutTheValidationData()
    {
        var train = Keyed(TabularFixtures.Rows(60), ["a", "b", "c"]);
        var validation = _context.Transforms.CopyColumns("Label", nameof(TabularFixtures.Row.Target)).Fit(TabularFixtures.Load(_context, TabularFixtures.Rows(10)))
            .Transform(TabularFixtures.Load(_context, TabularFixtures.Rows(10)));

        var error = Assert.ThrowsExactly<ArgumentException>(() => Trainer().Fit(train, validation));

        StringAssert.StartsWith(error.Message, "In the validation data passed to Fit: The label column 'Label' is Single");
        Assert.AreEqual("validationData", error.ParamName);
    }

    private MlpMulticlassTrainer Trainer(int epochs = 1) =>
        _context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions { HiddenLayers = [16], Epochs = epochs, Seed = 3 });

    /// <summary>The rows with a key over <paramref name="classes"/> in that order.</summary>
    private IDataView Keyed(List<TabularFixtures.Row> rows, string[] classes)
    {
        var keyData = _context.Data.LoadFromEnumerable(classes.Select(c => new ClassRow { Category = c }));
        var data = TabularFixtures.Load(_context, rows);
        return _context.Transforms.Conversion.MapValueToKey("Label", nameof(TabularFixtures.Row.Category), keyData: keyData).Fit(data).Transform(data);
    }

    private double ValidationAccuracy(ML.DeepExtensions.MLNet.NeuralNetworkTransformer model, List<TabularFixtures.Row> rows)
    {
        var scored = model.Transform(TabularFixtures.Load(_context, rows));
        var predicted = _context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel").Fit(scored).Transform(scored)
            .GetColumn<string>("PredictedName").ToArray();
        return rows.Zip(predicted).Count(p => p.First.Category == p.Second) / (double)rows.Count;
    }

    private static string[] KeyNames(DataViewSchema.Column column)
    {
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        column.GetKeyValues(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    private sealed class ClassRow
    {
        public string Category { get; set; } = "";
    }
}
