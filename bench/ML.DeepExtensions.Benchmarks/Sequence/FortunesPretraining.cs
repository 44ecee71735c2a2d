using Microsoft.ML;
using Microsoft.ML.Transforms.Text;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Sequence;
using ML.DeepExtensions.Sequence.Datasets;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Transfer for the fortunes benchmark: a text classifier first trained on a larger labelled corpus
/// (every other category file of the Debian package, plus the benchmark's own training part, as one
/// many-way task), whose embedding and recurrent layer then start the benchmark's classifier. The
/// held-out fortunes are never read: fortunes of other files identical to any benchmark fortune are
/// left out of the corpus.
/// </summary>
internal sealed class FortunesPretraining
{
    /// <summary>The token key column both classifiers read.</summary>
    public const string TokenColumn = "Tokens";

    /// <summary>The pretraining task's label column (the category file, one of 40).</summary>
    public const string Label = "PretrainingLabel";

    private FortunesPretraining(ITransformer vocabulary, IDataView corpus, int otherFortunes, int otherCategories, int leftOut)
    {
        Vocabulary = vocabulary;
        Corpus = corpus;
        OtherFortunes = otherFortunes;
        OtherCategories = otherCategories;
        LeftOut = leftOut;
    }

    /// <summary>ML.NET's text chain, fitted on the corpus: raw text to the token key column.</summary>
    public ITransformer Vocabulary { get; }

    /// <summary>The corpus, tokenised and labelled for the pretraining task.</summary>
    private IDataView Corpus { get; }

    public int OtherFortunes { get; }

    public int OtherCategories { get; }

    public int LeftOut { get; }

    /// <summary>The corpus from <paramref name="directory"/>'s other category files and <paramref name="train"/>.</summary>
    public static FortunesPretraining Create(MLContext context, string directory, IReadOnlyList<string> benchmarkCategories, IReadOnlyList<FortuneText> train)
    {
        var benchmark = new HashSet<string>(benchmarkCategories, StringComparer.Ordinal);
        var others = Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .Where(name => name is not null && !benchmark.Contains(name) && !name.Contains('.', StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (others.Count == 0)
        {
            throw new InvalidOperationException($"No other fortunes category files in {directory}: run scripts/fetch-data.sh, which copies every category of the '{Fortunes.DebianPackage}' package.");
        }

        // Every benchmark fortune, test part included, is used here only to leave its duplicates out.
        var benchmarkTexts = Fortunes.Read(directory, benchmarkCategories).Select(f => f.Text).ToHashSet(StringComparer.Ordinal);
        var otherTexts = Fortunes.Read(directory, others!);
        var kept = otherTexts.Where(f => !benchmarkTexts.Contains(f.Text)).ToList();
        var corpus = context.Data.LoadFromEnumerable(kept.Concat(train).ToList());
        var vocabulary = context.Transforms.Text.NormalizeText("Normalized", nameof(FortuneText.Text), TextNormalizingEstimator.CaseMode.Lower, keepDiacritics: true, keepPunctuations: false, keepNumbers: true)
            .Append(context.Transforms.Text.TokenizeIntoWords(TokenColumn, "Normalized", [' ', '\t', '\n', '\r']))
            .Append(context.Transforms.Conversion.MapValueToKey(TokenColumn, maximumNumberOfKeys: 60_000))
            .Append(context.Transforms.DropColumns("Normalized"))
            .Fit(corpus);
        var labelled = context.Transforms.Conversion.MapValueToKey(Label, nameof(FortuneText.Category)).Fit(corpus).Transform(vocabulary.Transform(corpus));
        return new FortunesPretraining(vocabulary, labelled, kept.Count, others.Count, otherTexts.Count - kept.Count);
    }

    /// <summary>Trains the many-way classifier (<paramref name="options"/> read <see cref="Label"/> and <see cref="TokenColumn"/>) and returns its network for fine-tuning.</summary>
    public PretrainedNetwork Pretrain(MLContext context, TextMulticlassOptions options)
    {
        using var model = context.MulticlassClassification.Trainers.TextClassifier(options).Fit(Corpus);
        BenchmarkCommand.Progress($"pretrained on {OtherCategories} other categories + the training part: final training accuracy {model.History["accuracy"][^1]:P1}");
        return PretrainedNetwork.FromTransformer(model);
    }
}
