using System.Globalization;

namespace ML.DeepExtensions.Sequence.Datasets;

/// <summary>One observation of a time series: when, and the value (NaN where the source has a gap).</summary>
public sealed class SeriesPoint
{
    /// <summary>The time of the observation (the first day of a year or month for yearly and monthly series).</summary>
    public DateTime Time { get; init; }

    /// <summary>The observed value; <see cref="float.NaN"/> where the file has no value.</summary>
    public float Value { get; init; }
}

/// <summary>
/// Real time series bundled with the Debian package <c>python3-statsmodels</c> (its <c>datasets</c>
/// folder): yearly sunspots 1700–2008, weekly Mauna Loa CO₂ 1958–2001 (with gaps), the yearly Nile
/// flow 1871–1970 and the monthly El Niño sea surface temperature 1950–2010. Each reader returns the
/// points in time order.
/// </summary>
public static class StatsmodelsSeries
{
    /// <summary>Where the Debian package installs the data sets (one folder per data set).</summary>
    public const string DefaultDirectory = "/usr/lib/python3/dist-packages/statsmodels/datasets";

    /// <summary>The Debian package that provides the files.</summary>
    public const string DebianPackage = "python3-statsmodels";

    /// <summary>Yearly mean sunspot number, 1700–2008 (309 values; <c>sunspots/sunspots.csv</c>, columns YEAR, SUNACTIVITY).</summary>
    /// <param name="directory">The <c>datasets</c> folder: <see cref="DefaultDirectory"/> or the repository's <c>.data/statsmodels</c>.</param>
    public static IReadOnlyList<SeriesPoint> Sunspots(string directory) =>
        ReadTwoColumns(directory, "sunspots", year => new DateTime(ParseInt(year.Value, year.Path, year.Line), 1, 1, 0, 0, 0, DateTimeKind.Utc));

    /// <summary>Weekly atmospheric CO₂ at Mauna Loa in ppm, 1958-03-29 to 2001-12-29 (2,284 weeks, 59 of them missing: NaN).</summary>
    /// <param name="directory">The <c>datasets</c> folder.</param>
    public static IReadOnlyList<SeriesPoint> Co2(string directory) =>
        ReadTwoColumns(directory, "co2", date => DateTime.SpecifyKind(
            DateTime.ParseExact(date.Value, "yyyyMMdd", CultureInfo.InvariantCulture), DateTimeKind.Utc));

    /// <summary>Yearly flow of the Nile at Aswan (10⁸ m³), 1871–1970 (100 values).</summary>
    /// <param name="directory">The <c>datasets</c> folder.</param>
    public static IReadOnlyList<SeriesPoint> Nile(string directory) =>
        ReadTwoColumns(directory, "nile", year => new DateTime(ParseInt(year.Value, year.Path, year.Line), 1, 1, 0, 0, 0, DateTimeKind.Utc));

    /// <summary>Monthly sea surface temperature (°C) of the El Niño region, January 1950 to December 2010 (732 months; the file's 12 month columns, flattened).</summary>
    /// <param name="directory">The <c>datasets</c> folder.</param>
    public static IReadOnlyList<SeriesPoint> ElNino(string directory)
    {
        string path = Locate(directory, "elnino");
        var points = new List<SeriesPoint>();
        int line = 0;
        foreach (string text in File.ReadLines(path).Skip(1))
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }

            var fields = text.Split(',');
            if (fields.Length != 13)
            {
                throw new InvalidDataException($"{path}, line {line + 1}: expected a year and 12 monthly values, found {fields.Length} fields.");
            }

            int year = ParseInt(fields[0], path, line + 1);
            for (int month = 1; month <= 12; month++)
            {
                points.Add(new SeriesPoint { Time = new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc), Value = ParseValue(fields[month], path, line + 1) });
            }
        }

        return points;
    }

    private static List<SeriesPoint> ReadTwoColumns(string directory, string name, Func<(string Value, string Path, int Line), DateTime> time)
    {
        string path = Locate(directory, name);
        var points = new List<SeriesPoint>();
        int line = 1;
        foreach (string text in File.ReadLines(path).Skip(1))
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }

            var fields = text.Split(',');
            if (fields.Length != 2)
            {
                throw new InvalidDataException($"{path}, line {line}: expected 2 fields (time, value), found {fields.Length}.");
            }

            points.Add(new SeriesPoint { Time = time((fields[0].Trim('"'), path, line)), Value = ParseValue(fields[1], path, line) });
        }

        return points;
    }

    private static string Locate(string directory, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string path = Path.Combine(directory, name, name + ".csv");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The statsmodels data file '{path}' does not exist. Install the Debian package '{DebianPackage}' (apt-get install {DebianPackage}) "
                + "or run scripts/fetch-data.sh, which puts sunspots, co2, nile and elnino into .data/statsmodels.", path);
        }

        return path;
    }

    private static int ParseInt(string text, string path, int line) =>
        int.TryParse(text.Trim('"'), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InvalidDataException($"{path}, line {line}: '{text}' is not a year.");

    /// <summary>An empty field is a gap (NaN); anything else must be a number.</summary>
    private static float ParseValue(string text, string path, int line)
    {
        text = text.Trim().Trim('"');
        if (text.Length == 0)
        {
            return float.NaN;
        }

        return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value)
            ? value
            : throw new InvalidDataException($"{path}, line {line}: '{text}' is not a number.");
    }
}
