using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>
/// A results table rendered with Spectre.Console in Markdown form, so the same text reads well in a
/// terminal and pastes unchanged into docs/benchmarks.md.
/// </summary>
internal sealed class ReportTable
{
    private readonly Table _table = new Table().Border(TableBorder.Markdown);

    public ReportTable(params (string Header, bool RightAligned)[] columns)
    {
        foreach (var (header, rightAligned) in columns)
        {
            var column = new TableColumn(new Text(header)) { NoWrap = true };
            _table.AddColumn(rightAligned ? column.RightAligned() : column);
        }
    }

    public void AddRow(params string[] cells) => _table.AddRow(cells.Select(c => (IRenderable)new Text(c)).ToArray());

    /// <summary>The table as Markdown text, never wrapped whatever the terminal width.</summary>
    public string ToMarkdown()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 400;
        console.Write(_table);
        return writer.ToString().Trim();
    }
}
