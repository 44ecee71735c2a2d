using System.Text;

namespace ML.DeepExtensions.Sequence.Datasets;

/// <summary>One fortune: its text and the category file it comes from.</summary>
public sealed class FortuneText
{
    /// <summary>The text, whitespace collapsed to single spaces.</summary>
    public string Text { get; init; } = "";

    /// <summary>The category (the file's name, e.g. <c>science</c>).</summary>
    public string Category { get; init; } = "";
}

/// <summary>
/// The Debian package <c>fortunes</c>: one plain-text file per category (computers, science, people,
/// ...) of '%'-separated texts, a real text classification data set with the category as label.
/// </summary>
public static class Fortunes
{
    /// <summary>Where the Debian package installs the category files.</summary>
    public const string DefaultDirectory = "/usr/share/games/fortunes";

    /// <summary>The Debian package that provides the files.</summary>
    public const string DebianPackage = "fortunes";

    /// <summary>The eight large categories the benchmark and the fetch script use.</summary>
    public static IReadOnlyList<string> BenchmarkCategories { get; } =
        ["computers", "definitions", "people", "politics", "science", "songs-poems", "men-women", "work"];

    /// <summary>Reads the fortunes of <paramref name="categories"/> from <paramref name="directory"/>, file by file in the order given.</summary>
    /// <exception cref="FileNotFoundException">A category file is missing; the message names it and says how to get it.</exception>
    public static IReadOnlyList<FortuneText> Read(string directory, IEnumerable<string> categories)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(categories);
        var texts = new List<FortuneText>();
        foreach (string category in categories)
        {
            string path = Path.Combine(directory, category);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException(
                    $"The fortunes category file '{path}' does not exist. Install the Debian package '{DebianPackage}' "
                    + "(apt-get install fortunes) or run scripts/fetch-data.sh, which puts the benchmark categories into .data/fortunes.", path);
            }

            var current = new StringBuilder();
            foreach (string line in File.ReadLines(path, Encoding.Latin1).Append("%"))
            {
                if (line == "%")
                {
                    string text = Clean(current.ToString());
                    if (text.Length > 0)
                    {
                        texts.Add(new FortuneText { Text = text, Category = category });
                    }

                    current.Clear();
                }
                else
                {
                    current.Append(line).Append(' ');
                }
            }
        }

        return texts;
    }

    /// <summary>Drops overstriking (a character then a backspace) and collapses whitespace.</summary>
    private static string Clean(string text)
    {
        var result = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c == '\b')
            {
                if (result.Length > 0)
                {
                    result.Length--;
                }
            }
            else if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                if (result.Length > 0 && result[^1] != ' ')
                {
                    result.Append(' ');
                }
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString().Trim();
    }
}
