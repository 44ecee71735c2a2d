namespace ML.DeepExtensions.Tests.TestData;

/// <summary>
/// Finds the real data sets that come from Debian packages: first in the repository's <c>.data/</c>
/// folder (filled by scripts/fetch-data.sh, which the build runs for projects with
/// UsesDebianDatasets), then where the packages install them system-wide.
/// </summary>
internal static class DebianDatasets
{
    /// <summary>Where python3-sklearn installs its bundled CSV files.</summary>
    public const string SklearnSystemDirectory = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    /// <summary>Where dataset-fashion-mnist installs the IDX files.</summary>
    public const string FashionMnistSystemDirectory = "/usr/share/datasets/fashion-mnist";

    private const string SolutionFileName = "ML.DeepExtensions.sln";

    private static readonly Lazy<string?> _repositoryDataDirectory = new(FindRepositoryDataDirectory);

    /// <summary>The repository's <c>.data/</c> folder, or null when no enclosing repository is found.</summary>
    public static string? RepositoryDataDirectory => _repositoryDataDirectory.Value;

    /// <summary>
    /// Path of a CSV bundled with scikit-learn: iris.csv, wine_data.csv, breast_cancer.csv or digits.csv.gz.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file is in none of the known places.</exception>
    public static string SklearnCsv(string fileName) =>
        Locate("sklearn", SklearnSystemDirectory, "python3-sklearn", fileName);

    /// <summary>
    /// Path of a Fashion-MNIST file, for example train-images-idx3-ubyte.gz or t10k-labels-idx1-ubyte.gz.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file is in none of the known places.</exception>
    public static string FashionMnist(string fileName) =>
        Locate("fashion-mnist", FashionMnistSystemDirectory, "dataset-fashion-mnist", fileName);

    /// <summary>The folder holding the fortunes category files (computers, science, people, ...).</summary>
    /// <exception cref="FileNotFoundException">The files are in none of the known places.</exception>
    public static string FortunesDirectory() =>
        Path.GetDirectoryName(Locate("fortunes", "/usr/share/games/fortunes", "fortunes", "science"))!;

    /// <summary>The statsmodels <c>datasets</c> folder holding sunspots/, co2/, nile/ and elnino/ (python3-statsmodels).</summary>
    /// <exception cref="FileNotFoundException">The files are in none of the known places.</exception>
    public static string StatsmodelsDirectory() =>
        Path.GetDirectoryName(Path.GetDirectoryName(Locate(Path.Combine("statsmodels", "sunspots"), "/usr/lib/python3/dist-packages/statsmodels/datasets/sunspots", "python3-statsmodels", "sunspots.csv")))!;

    private static string Locate(string dataSubdirectory, string systemDirectory, string package, string fileName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        if (fileName != Path.GetFileName(fileName))
        {
            throw new ArgumentException($"Expected a bare file name, got '{fileName}'.", nameof(fileName));
        }

        var candidates = new List<string>(2);
        if (RepositoryDataDirectory is { } data)
        {
            candidates.Add(Path.Combine(data, dataSubdirectory, fileName));
        }

        candidates.Add(Path.Combine(systemDirectory, fileName));
        foreach (var candidate in candidates)
        {
            if (IsReadableFile(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"Data file '{fileName}' (from the Debian package {package}) was not found. Looked in: "
            + string.Join(", ", candidates)
            + ". Fix: run 'bash scripts/fetch-data.sh' from the repository root (it extracts the package into .data/ "
            + $"without installing it; run 'sudo apt-get update' first if it says so), or 'apt-get install {package}'.",
            fileName);
    }

    // File.Exists is true for a dangling symbolic link, so check the final target too.
    private static bool IsReadableFile(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return false;
        }

        return file.LinkTarget is null || file.ResolveLinkTarget(returnFinalTarget: true)?.Exists == true;
    }

    private static string? FindRepositoryDataDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return Path.Combine(directory.FullName, ".data");
            }
        }

        return null;
    }
}
