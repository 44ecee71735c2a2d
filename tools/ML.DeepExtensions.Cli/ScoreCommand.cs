using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using ML.DeepExtensions.Cli.Input;
using ML.DeepExtensions.Cli.Output;
using ML.DeepExtensions.Scoring;
using Spectre.Console;

namespace ML.DeepExtensions.Cli;

/// <summary><c>mldx score MODEL INPUT -o OUTPUT</c>: batch-scores a CSV, TSV or Parquet file.</summary>
internal static class ScoreCommand
{
    private static readonly Argument<string> ModelArgument = new("model") { Description = "The model zip (saved with mlContext.Model.Save)." };
    private static readonly Argument<string> InputArgument = new("input") { Description = "The rows to score: .csv, .tsv or .parquet, with a header naming the columns." };
    private static readonly Option<string> OutputOption = new("--output", "-o") { Description = "The file to write: .csv, .tsv or .parquet.", Required = true };
    private static readonly Option<string[]> ColumnsOption = new("--columns", "-c")
    {
        Description = "Scored columns to write (default: PredictedLabel, Score, Probability, those the model has). Comma-separated or repeated.",
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<string[]> KeepOption = new("--keep", "-k")
    {
        Description = "Input columns to copy to the output, before the scored columns (for example an id). Comma-separated or repeated.",
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<int> BatchSizeOption = new("--batch-size", "-b") { Description = "Rows per ONNX Runtime call.", DefaultValueFactory = _ => 256 };
    private static readonly Option<int?> ThreadsOption = new("--threads", "-t") { Description = "ONNX Runtime threads (default: one per core)." };
    private static readonly Option<string?> ShardOption = new("--shard") { Description = "i/n: score only rows r with r mod n = i (0-based data rows), so n jobs split one file; e.g. 0/4." };
    private static readonly Option<string?> RejectOption = new("--reject-file") { Description = "Write malformed rows here (the header, then the rows as they were) and go on, instead of stopping at the first." };
    private static readonly Option<bool> ForceOption = new("--force", "-f") { Description = "Replace the output if it exists." };
    private static readonly Option<bool> NoProgressOption = new("--no-progress") { Description = "No progress bar (it is shown only on a terminal anyway)." };

    public static Command Create()
    {
        var command = new Command("score", "Score a CSV, TSV or Parquet file with a saved model, in batches, into a CSV, TSV or Parquet file.")
        {
            ModelArgument, InputArgument, OutputOption, ColumnsOption, KeepOption, BatchSizeOption, ThreadsOption, ShardOption, RejectOption, ForceOption, NoProgressOption,
        };
        BatchSizeOption.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--batch-size must be at least 1.");
            }
        });
        ThreadsOption.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--threads must be at least 1.");
            }
        });
        ShardOption.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && ParseShard(text) is null)
            {
                r.AddError($"--shard must be i/n with 0 <= i < n, e.g. 0/4; got '{text}'.");
            }
        });
        command.SetAction(result => Program.Run(() => Run(result, Program.Interrupted)));
        return command;
    }

    internal static (int Index, int Count)? ParseShard(string text)
    {
        var parts = text.Split('/');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count)
            && count >= 1 && index < count
            ? (index, count)
            : null;
    }

    private static int Run(ParseResult result, CancellationToken token)
    {
        string modelPath = result.GetValue(ModelArgument)!;
        string inputPath = result.GetValue(InputArgument)!;
        string outputPath = result.GetValue(OutputOption)!;
        var columns = Split(result.GetValue(ColumnsOption));
        var keep = Split(result.GetValue(KeepOption));
        var shard = result.GetValue(ShardOption) is { } s ? ParseShard(s)!.Value : (0, 1);
        string? rejectPath = result.GetValue(RejectOption);
        bool force = result.GetValue(ForceOption);
        var inputFormat = Formats.Of(inputPath, "input");
        var outputFormat = Formats.Of(outputPath, "output");
        if (!File.Exists(inputPath))
        {
            throw CliException.Input($"The input file '{inputPath}' does not exist.");
        }

        var context = new MLContext(seed: 0);
        var (scorer, modelInput) = ModelFile.Open(context, modelPath,
            new BatchScorerOptions { BatchSize = result.GetValue(BatchSizeOption), IntraOpThreads = result.GetValue(ThreadsOption) });
        using var _ = scorer;

        // The output (and reject) files are checked before reading anything: a refusal costs nothing.
        using var output = AtomicOutput.Create(outputPath, force);
        using var rejectOutput = rejectPath is null ? null : AtomicOutput.Create(rejectPath, force);

        var probe = OpenReader(inputPath, inputFormat, keepRaw: rejectPath is not null);
        List<PlannedColumn> plan;
        string rawHeader;
        try
        {
            plan = InputPlan.Create(scorer.Model, modelInput, probe, inputPath, keep);
            rawHeader = probe.RawHeader;
        }
        finally
        {
            probe.Dispose();
        }

        using var rejects = rejectOutput is null ? null : new RejectSink(new StreamWriter(rejectOutput.Stream, leaveOpen: true), rawHeader);
        var source = new RecordDataView(() =>
        {
            var reader = OpenReader(inputPath, inputFormat, keepRaw: rejectPath is not null);
            InputPlan.Create(scorer.Model, modelInput, reader, inputPath, keep);
            return reader;
        }, plan, inputPath, shard, rejects);
        var scored = scorer.Transform(source);
        var names = keep.Concat(columns.Count > 0 ? columns : OutputColumn.DefaultNames(scored.Schema)).ToList();
        foreach (var name in keep.Where(k => scored.Schema.GetColumnOrNull(k) is { } c && c.Index >= plan.Count))
        {
            throw CliException.Input($"--keep column '{name}' has the name of a column the model writes; rename it in the input.");
        }

        var stopwatch = Stopwatch.StartNew();
        long rows = 0;
        using (var cursor = scored.GetRowCursor(OutputColumn.Needed(scored.Schema, names)))
        using (TableWriter writer = outputFormat == Formats.Parquet ? new ParquetTableWriter(output.Stream) : new CsvTableWriter(output.Stream, outputFormat == Formats.Tsv ? '\t' : ','))
        {
            var outputs = OutputColumn.Create(cursor, names);
            writer.Begin(outputs.SelectMany(c => c.Fields).ToList());
            void Loop(Action<long>? progress)
            {
                while (cursor.MoveNext())
                {
                    token.ThrowIfCancellationRequested();
                    foreach (var column in outputs)
                    {
                        column.Write(writer);
                    }

                    writer.EndRow();
                    if ((++rows & 1023) == 0)
                    {
                        progress?.Invoke(rows);
                    }
                }
            }

            if (!result.GetValue(NoProgressOption) && !Console.IsErrorRedirected)
            {
                Progress(source, stopwatch, Loop, () => rows);
            }
            else
            {
                Loop(null);
            }

            writer.Complete();
        }

        output.Commit();
        if (rejects is not null)
        {
            rejects.Dispose();
            if (rejects.Count > 0)
            {
                rejectOutput!.Commit();
            }
        }

        double seconds = Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scored {rows:N0} rows in {seconds:F1} s ({rows / seconds:N0} rows/s) into '{outputPath}'{(shard.Item2 > 1 ? $" (shard {shard.Item1}/{shard.Item2})" : "")}{PeakMemory()}."));
        if (rejects is { Count: > 0 })
        {
            Console.Error.WriteLine($"Skipped {rejects.Count:N0} malformed rows into '{rejectPath}', for example:");
            foreach (var message in rejects.FirstMessages)
            {
                Console.Error.WriteLine("  " + message);
            }
        }

        return ExitCodes.Success;
    }

    private static void Progress(RecordDataView source, Stopwatch stopwatch, Action<Action<long>> loop, Func<long> total)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("scoring", maxValue: 1.0);
                long lastUpdate = 0;
                void Show(long rows) =>
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"{rows:N0} rows, {rows / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9):N0} rows/s");
                loop(rows =>
                {
                    long now = stopwatch.ElapsedMilliseconds;
                    if (now - lastUpdate < 100)
                    {
                        return;
                    }

                    lastUpdate = now;
                    Show(rows);
                    task.Value = source.Reader?.Fraction ?? 0;
                });
                Show(total());
                task.Value = 1.0;
            });
    }

    /// <summary>"; peak memory N MiB" from the kernel's high-water mark of resident memory (Linux), or nothing.</summary>
    private static string PeakMemory()
    {
        const string status = "/proc/self/status";
        string? line = File.Exists(status) ? File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) : null;
        return line is not null && long.TryParse(line["VmHWM:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib)
            ? string.Create(CultureInfo.InvariantCulture, $"; peak memory {kib / 1024} MiB")
            : "";
    }

    private static RecordReader OpenReader(string path, string format, bool keepRaw) => format switch
    {
        Formats.Parquet => new ParquetRecordReader(path),
        _ => new CsvRecordReader(path, format == Formats.Tsv ? '\t' : ',') { KeepRawRecords = keepRaw },
    };

    private static List<string> Split(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
}

/// <summary>File formats, from the file name's extension.</summary>
internal static class Formats
{
    public const string Csv = "csv";
    public const string Tsv = "tsv";
    public const string Parquet = "parquet";

    public static string Of(string path, string role) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => Csv,
        ".tsv" or ".tab" => Tsv,
        ".parquet" => Parquet,
        var other => throw new CliException(ExitCodes.Usage, $"The {role} file '{path}' has extension '{other}'; use .csv, .tsv or .parquet."),
    };
}
