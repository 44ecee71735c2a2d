using System.Globalization;
using System.Text;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>
/// The Markdown a benchmark prints: paragraphs and tables in order. <see cref="BenchmarkCommand"/>
/// puts the same first line above every report (date, CPU model, load average before and after),
/// so no figure leaves this program without the machine and the time it was measured on.
/// </summary>
internal sealed class BenchmarkReport
{
    private readonly List<string> _blocks = [];

    /// <summary>Adds a paragraph, formatted with the invariant culture (so only interpolated strings, no <c>string</c> overload that C# would prefer).</summary>
    public BenchmarkReport Paragraph(FormattableString text)
    {
        _blocks.Add(text.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    /// <summary>Adds a table.</summary>
    public BenchmarkReport Table(ReportTable table)
    {
        _blocks.Add(table.ToMarkdown());
        return this;
    }

    /// <summary>Adds a bullet list, one line per item.</summary>
    public BenchmarkReport Bullets(params FormattableString[] items)
    {
        _blocks.Add(string.Join(Environment.NewLine, items.Select(i => "- " + i.ToString(CultureInfo.InvariantCulture))));
        return this;
    }

    /// <summary>The report under its measurement line, blocks separated by blank lines.</summary>
    public string ToMarkdown(string measuredLine)
    {
        var text = new StringBuilder(measuredLine);
        foreach (string block in _blocks)
        {
            text.AppendLine().AppendLine().Append(block);
        }

        return text.ToString();
    }

    /// <summary>"Measured 2026-12-01 08:14 UTC on 2 cores, AMD EPYC 7B13, 23 GiB; load average (1 min) 1.20 before, 2.31 after."</summary>
    public static string MeasuredLine(DateTime startUtc, string loadBefore, string loadAfter) => string.Create(CultureInfo.InvariantCulture,
        $"Measured {startUtc:yyyy-MM-dd HH:mm} UTC on {Machine.Describe()}; load average (1 min) {loadBefore} before, {loadAfter} after.");
}
