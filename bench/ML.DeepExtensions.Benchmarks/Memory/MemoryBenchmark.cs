using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.Tabular;

namespace ML.DeepExtensions.Benchmarks.Memory;

/// <summary>
/// <c>memory</c>: peak resident memory of an MLP Fit over a streamed (never materialised) table of
/// 20,000, 200,000 and 2,000,000 rows. Peak RSS only grows within a process, so each size runs in a
/// child process of this program (<c>memory --single N</c>), which prints one result line.
/// </summary>
internal static class MemoryBenchmark
{
    private const string ResultPrefix = "memory-result\t";

    public static Command Command()
    {
        var rows = new Option<long[]>("--rows")
        {
            Description = "Row counts, one child process each.",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [20_000, 200_000, 2_000_000],
        };
        var single = new Option<long?>("--single") { Description = "Internal: run one Fit of this many rows in this process and print its result line." };
        var features = new Option<int>("--features") { Description = "Features per row.", DefaultValueFactory = _ => 20 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs per Fit.", DefaultValueFactory = _ => 1 };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per batch.", DefaultValueFactory = _ => 256 };
        var bufferBytes = new Option<long>("--shuffle-buffer-bytes")
        {
            Description = "TrainingOptions.ShuffleBufferBytes, the automatic shuffle buffer's bound.",
            DefaultValueFactory = _ => BatchSourceOptions.AutomaticShuffleBufferBytes,
        };
        var command = new Command("memory", "Peak resident memory (RSS) of an MLP Fit over 20k, 200k and 2M streamed rows, one child process per size.")
        {
            rows, single, features, epochs, batchSize, bufferBytes,
        };
        command.SetAction(parse =>
        {
            var settings = new Settings(parse.GetValue(features), parse.GetValue(epochs), parse.GetValue(batchSize), parse.GetValue(bufferBytes));
            if (settings.Features < 1 || settings.Epochs < 1 || settings.BatchSize < 1 || settings.ShuffleBufferBytes < 1)
            {
                Console.Error.WriteLine("--features, --epochs, --batch-size and --shuffle-buffer-bytes must be positive.");
                return 2;
            }

            if (parse.GetValue(single) is { } count)
            {
                Console.WriteLine(ResultPrefix + RunOne(count, settings).ToLine());
                return 0;
            }

            return RunAll(parse.GetValue(rows) ?? [], settings);
        });
        return command;
    }

    private static int RunAll(long[] rowCounts, Settings settings)
    {
        Console.WriteLine($"MLP [64, 32] multiclass (5 classes), {settings.Features} features, batch {settings.BatchSize}, {settings.Epochs} epoch(s), "
            + $"ShuffleBufferBytes {settings.ShuffleBufferBytes:N0}; rows generated on the fly by a streaming IDataView. One child process per size.");
        Console.WriteLine();
        Console.WriteLine("| Rows | Shuffle buffer (rows) | RSS before Fit (MiB) | Peak RSS (MiB) | GC heap committed (MiB) | Managed memory left after a full GC (MiB) | Fit (s) |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (long count in rowCounts)
        {
            var result = RunChild(count, settings);
            if (result is null)
            {
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {count:N0} | {result.BufferRows:N0} | {result.RssBeforeBytes / 1048576.0:F1} | {result.PeakRssBytes / 1048576.0:F1} | {result.CommittedBytes / 1048576.0:F1} | {result.RetainedBytes / 1048576.0:F1} | {result.Seconds:F1} |"));
        }

        Console.WriteLine();
        Console.WriteLine($"Load average (1 min): {Reporting.Machine.LoadAverage()}. Peak RSS is the process's high-water mark (VmHWM on Linux).");
        return 0;
    }

    private static Result? RunChild(long count, Settings settings)
    {
        string process = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(process) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(MemoryBenchmark).Assembly.Location);
        }

        foreach (string argument in new[]
        {
            "memory", "--single", count.ToString(CultureInfo.InvariantCulture),
            "--features", settings.Features.ToString(CultureInfo.InvariantCulture),
            "--epochs", settings.Epochs.ToString(CultureInfo.InvariantCulture),
            "--batch-size", settings.BatchSize.ToString(CultureInfo.InvariantCulture),
            "--shuffle-buffer-bytes", settings.ShuffleBufferBytes.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? line = output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
        {
            Console.Error.WriteLine($"The child process for {count} rows failed (exit code {child.ExitCode}).");
            return null;
        }

        return Result.Parse(line[ResultPrefix.Length..]);
    }

    private static Result RunOne(long count, Settings settings)
    {
        var context = new MLContext(seed: 1);
        var data = new StreamedTable(count, settings.Features, classes: 5, seed: 1);
        var options = new MlpMulticlassOptions
        {
            HiddenLayers = [64, 32],
            Epochs = settings.Epochs,
            Data = { BatchSize = settings.BatchSize, ShuffleBufferBytes = settings.ShuffleBufferBytes },
            Seed = 1,
        };
        var source = new DataViewBatchSource(data, [BatchColumn.Features(), BatchColumn.ClassLabel()],
            new BatchSourceOptions { ShuffleBufferBytes = settings.ShuffleBufferBytes, BatchSize = settings.BatchSize });
        // Warm TorchSharp and ONNX Runtime up on a tiny Fit, so "before" includes the native libraries.
        context.MulticlassClassification.Trainers.Mlp(new MlpMulticlassOptions { HiddenLayers = [4], Epochs = 1, Seed = 1 })
            .Fit(new StreamedTable(64, settings.Features, classes: 5, seed: 2));
        GC.Collect();
        long before = CurrentRss();
        var clock = Stopwatch.StartNew();
        var model = context.MulticlassClassification.Trainers.Mlp(options).Fit(data);
        double seconds = clock.Elapsed.TotalSeconds;
        GC.KeepAlive(model);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        // The managed side of the peak: what the GC had committed at its last collection, and what
        // survives a full collection (a leak of managed objects would show here).
        long committed = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        long retained = GC.GetTotalMemory(forceFullCollection: true);
        return new Result(source.ShuffleBufferSize, before, self.PeakWorkingSet64, committed, retained, seconds);
    }

    private static long CurrentRss()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }

    private sealed record Settings(int Features, int Epochs, int BatchSize, long ShuffleBufferBytes);

    private sealed record Result(int BufferRows, long RssBeforeBytes, long PeakRssBytes, long CommittedBytes, long RetainedBytes, double Seconds)
    {
        public string ToLine() => string.Create(CultureInfo.InvariantCulture, $"{BufferRows}\t{RssBeforeBytes}\t{PeakRssBytes}\t{CommittedBytes}\t{RetainedBytes}\t{Seconds:R}");

        public static Result Parse(string line)
        {
            var fields = line.Split('\t');
            return new Result(int.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture),
                long.Parse(fields[2], CultureInfo.InvariantCulture), long.Parse(fields[3], CultureInfo.InvariantCulture),
                long.Parse(fields[4], CultureInfo.InvariantCulture), double.Parse(fields[5], CultureInfo.InvariantCulture));
        }
    }
}

/// <summary>
/// A table of <c>rows</c> rows computed from the row position on every read, so no pass keeps it in
/// memory: Features (Vector&lt;Single, F&gt;, a noisy blob around the class's centre) and Label (a key of K classes).
/// </summary>
internal sealed class StreamedTable : IDataView
{
    private readonly long _rows;
    private readonly int _features;
    private readonly int _classes;
    private readonly int _seed;

    public StreamedTable(long rows, int features, int classes, int seed)
    {
        _rows = rows;
        _features = features;
        _classes = classes;
        _seed = seed;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, features));
        builder.AddColumn("Label", new KeyDataViewType(typeof(uint), classes));
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    /// <summary>A deterministic value in [0, 1) from (seed, row, index): SplitMix64.</summary>
    private double Noise(long row, int index)
    {
        ulong z = unchecked(((ulong)row * 0x9E3779B97F4A7C15UL) + ((ulong)index * 0xBF58476D1CE4E5B9UL) + (ulong)_seed);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (z ^ (z >> 31)) / (double)ulong.MaxValue;
    }

    private sealed class Cursor(StreamedTable table) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => table.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext() => ++_position < table._rows;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index == 0)
            {
                ValueGetter<VBuffer<float>> features = (ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, table._features);
                    uint label = Label();
                    for (int f = 0; f < table._features; f++)
                    {
                        editor.Values[f] = (float)(((f % table._classes) == label ? 2.0 : 0.0) + table.Noise(_position, f + 1));
                    }

                    value = editor.Commit();
                };
                return (ValueGetter<TValue>)(Delegate)features;
            }

            ValueGetter<uint> key = (ref uint value) => value = Label() + 1;
            return (ValueGetter<TValue>)(Delegate)key;
        }

        private uint Label() => (uint)(table.Noise(_position, 0) * table._classes);
    }
}
