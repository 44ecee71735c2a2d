using System.Diagnostics;
using ML.DeepExtensions.Benchmarks.Reporting;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Sequence.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Sequence;

/// <summary>
/// Packing against masking for a recurrent layer over padded text batches: the time of one training
/// step (forward, max pooling over the valid steps, backward) of an LSTM on batches whose row lengths
/// are those of real fortunes, (a) packed (<c>pack_padded_sequence</c>, what the library's recurrent
/// layers do for mixed lengths) and (b) run densely over the padding with the padded steps masked
/// afterwards. Masking gives the same values only for a forward-only layer: a backward direction
/// would read the padding before a row's last valid step.
/// </summary>
internal static class RecurrentPaddingBenchmark
{
    public static System.CommandLine.Command Create()
    {
        var units = new System.CommandLine.Option<int>("--units") { Description = "LSTM units (and embedding width).", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var batchSize = new System.CommandLine.Option<int>("--batch-size") { Description = "Rows per batch.", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var maxLength = new System.CommandLine.Option<int>("--max-length") { Description = "Longest row (longer fortunes are cut).", DefaultValueFactory = _ => 128 }.AtLeast(2);
        var batches = new System.CommandLine.Option<int>("--batches") { Description = "Batches per timed pass.", DefaultValueFactory = _ => 60 }.AtLeast(1);
        var rounds = new System.CommandLine.Option<int>("--rounds") { Description = "Interleaved timed rounds after a warm-up round.", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var threads = new System.CommandLine.Option<int>("--threads") { Description = "libtorch threads.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        return BenchmarkCommand.Create("recurrent-padding",
            "Packing vs masking: training-step time of an LSTM over padded batches with real fortune lengths, packed and dense-then-masked, interleaved.",
            [units, batchSize, maxLength, batches, rounds, threads],
            parse => Run(parse.GetValue(units), parse.GetValue(batchSize), parse.GetValue(maxLength), parse.GetValue(batches), parse.GetValue(rounds), parse.GetValue(threads)));
    }

    public static BenchmarkReport Run(int units, int batchSize, int maxLength, int batchCount, int rounds, int threads)
    {
        set_num_threads(threads);
        manual_seed(1);
        string directory = Path.Combine(VisionBenchmarkSetup.RepositoryRoot(), ".data", "fortunes");
        var words = Fortunes.Read(Directory.Exists(directory) ? directory : Fortunes.DefaultDirectory, Fortunes.BenchmarkCategories)
            .Select(f => Math.Clamp(f.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length, 1, maxLength)).ToArray();
        var random = new Random(1);
        var lengths = Enumerable.Range(0, batchCount).Select(_ => Enumerable.Range(0, batchSize).Select(_ => (long)words[random.Next(words.Length)]).ToArray()).ToArray();
        var inputs = lengths.Select(l => randn(batchSize, l.Max(), units)).ToArray();

        var rows = new ReportTable(("Layer", false), ("Packed, ms per step (rounds)", false), ("Dense + mask, ms per step (rounds)", false), ("Dense / packed", true), ("Same values", false));
        foreach (bool bidirectional in new[] { false, true })
        {
            using var lstm = nn.LSTM(units, units, batchFirst: true, bidirectional: bidirectional);
            var packed = new List<double>();
            var dense = new List<double>();
            for (int round = 0; round <= rounds; round++)
            {
                // Round 0 warms up both sides and is not reported.
                double p = Time(() => Pass(lstm, inputs, lengths, pack: true));
                double d = Time(() => Pass(lstm, inputs, lengths, pack: false));
                if (round > 0)
                {
                    packed.Add(p * 1000 / batchCount);
                    dense.Add(d * 1000 / batchCount);
                }
            }

            rows.AddRow(bidirectional ? $"LSTM {units}, bidirectional" : $"LSTM {units}, forward only",
                $"{Statistics.Number(Statistics.Median(packed), 2)} ({Statistics.Runs(packed, 2)})",
                $"{Statistics.Number(Statistics.Median(dense), 2)} ({Statistics.Runs(dense, 2)})",
                Statistics.Number(Statistics.Median(dense) / Statistics.Median(packed), 3),
                SameValues(lstm, inputs[0], lengths[0]) ? "yes" : "no");
        }

        foreach (var input in inputs)
        {
            input.Dispose();
        }

        double mean = lengths.SelectMany(l => l).Average();
        double padded = lengths.Average(l => (double)l.Max());
        return new BenchmarkReport()
            .Paragraph($"{batchCount} batches of {batchSize} rows per pass, row lengths drawn from the {words.Length:N0} benchmark fortunes' word counts (cut at {maxLength}): mean length {mean:F1}, mean padded length {padded:F1} ({mean / padded:P0} of the computed steps are valid). One step: LSTM forward, max over the valid steps, sum, backward. {threads} libtorch thread(s); {rounds} interleaved rounds after a warm-up; medians.")
            .Table(rows)
            .Bullets($"Same values: the pooled output of the first batch, dense + mask against packed, within 1e-5. A backward direction run densely reads padding before each row's last valid step, so masking is not an option for bidirectional layers whatever its speed.");
    }

    private static void Pass(TorchSharp.Modules.LSTM lstm, Tensor[] inputs, long[][] lengths, bool pack)
    {
        for (int b = 0; b < inputs.Length; b++)
        {
            using var scope = NewDisposeScope();
            lstm.zero_grad();
            Pooled(lstm, inputs[b], lengths[b], pack).sum().backward();
        }
    }

    private static Tensor Pooled(TorchSharp.Modules.LSTM lstm, Tensor input, long[] lengths, bool pack)
    {
        var lengthTensor = tensor(lengths);
        long steps = input.shape[1];
        Tensor output;
        if (pack)
        {
            var packed = nn.utils.rnn.pack_padded_sequence(input, lengthTensor, batch_first: true, enforce_sorted: false);
            var (result, _, _) = lstm.call(packed);
            output = nn.utils.rnn.pad_packed_sequence(result, batch_first: true, total_length: steps).Item1;
        }
        else
        {
            output = lstm.call(input).Item1;
        }

        var valid = arange(steps).unsqueeze(0).lt(lengthTensor.unsqueeze(1)).unsqueeze(2);
        return output.masked_fill(valid.logical_not(), float.NegativeInfinity).amax(1);
    }

    private static bool SameValues(TorchSharp.Modules.LSTM lstm, Tensor input, long[] lengths)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Pooled(lstm, input, lengths, pack: true).allclose(Pooled(lstm, input, lengths, pack: false), rtol: 0, atol: 1e-5);
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
