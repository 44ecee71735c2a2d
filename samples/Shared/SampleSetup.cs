using System.Globalization;

/// <summary>What the samples share: their few command-line options, and where the Debian data sets are.</summary>
internal static class SampleSetup
{
    /// <summary>The value after <paramref name="name"/> on the command line, or <paramref name="fallback"/>.</summary>
    public static string Text(string name, string fallback)
    {
        var args = Environment.GetCommandLineArgs();
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/>; a value that is not an integer is an error naming the option.</summary>
    public static int Number(string name, int fallback)
    {
        string text = Text(name, "");
        if (text.Length == 0)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ArgumentException($"{name} expects an integer, not '{text}'.");
    }

    /// <summary>The repository's <c>.data/&lt;dataSet&gt;</c> (the build fills it) when the sample runs from inside the repository, else <paramref name="installed"/>.</summary>
    public static string DataDirectory(string dataSet, string installed)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ML.DeepExtensions.sln")))
            {
                string candidate = Path.Combine(directory.FullName, ".data", dataSet);
                return Directory.Exists(candidate) ? candidate : installed;
            }
        }

        return installed;
    }
}
