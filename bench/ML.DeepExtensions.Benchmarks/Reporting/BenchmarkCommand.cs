using System.CommandLine;
using System.Globalization;

namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>
/// Builds one subcommand the way every benchmark has it: its own options plus <c>--output FILE</c>;
/// its action returns a <see cref="BenchmarkReport"/>, which is printed to standard output under
/// the line naming date, machine and load (progress goes to standard error, through
/// <see cref="Progress"/>), and also written to the file when one is given.
/// </summary>
internal static class BenchmarkCommand
{
    public static Command Create(string name, string description, IEnumerable<Option> options, Func<ParseResult, BenchmarkReport> run)
    {
        var output = new Option<FileInfo?>("--output") { Description = "Also write the Markdown report to this file." };
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var start = DateTime.UtcNow;
            string loadBefore = Machine.LoadAverage();
            var report = run(parse);
            string text = report.ToMarkdown(BenchmarkReport.MeasuredLine(start, loadBefore, Machine.LoadAverage()));
            Console.Error.WriteLine();
            Console.WriteLine(text);
            if (parse.GetValue(output) is { } file)
            {
                File.WriteAllText(file.FullName, text + Environment.NewLine);
                Progress($"written to {file.FullName}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>A progress line (round, epoch, trainer...) on standard error, so standard output holds only the report; invariant culture.</summary>
    public static void Progress(FormattableString line) => Console.Error.WriteLine(line.ToString(CultureInfo.InvariantCulture));

    /// <summary>Rejects values below <paramref name="minimum"/> with a message naming the option.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < minimum)
            {
                result.AddError($"{option.Name} must be at least {minimum}.");
            }
        });
        return option;
    }
}
