using Microsoft.ML;

namespace ML.DeepExtensions.Tests.Sequence;

/// <summary>Tiny generated texts: filler words plus one keyword that decides the class, 1 to 14 words long.</summary>
internal static class TextFixtures
{
    public static readonly string[] Classes = ["fruit", "metal", "weather"];

    private static readonly string[][] Keywords = [["apple", "pear", "plum"], ["iron", "copper", "zinc"], ["rain", "snow", "wind"]];
    private static readonly string[] Filler = ["the", "a", "of", "and", "today", "we", "saw", "some", "very", "big", "small", "near", "house", "road"];

    public sealed class Row
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";

        public bool IsPositive { get; set; }
    }

    public static List<Row> Rows(int count, int seed = 3)
    {
        var random = new Random(seed);
        var rows = new List<Row>(count);
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(Classes.Length);
            int length = random.Next(1, 15);
            var words = Enumerable.Range(0, length).Select(_ => Filler[random.Next(Filler.Length)]).ToList();
            words.Insert(random.Next(words.Count + 1), Keywords[label][random.Next(3)]);
            rows.Add(new Row { Text = string.Join(' ', words) + (random.Next(4) == 0 ? "!" : "."), Label = Classes[label], IsPositive = label == 0 });
        }

        return rows;
    }

    public static IDataView Load(MLContext context, IEnumerable<Row> rows) => context.Data.LoadFromEnumerable(rows);
}
