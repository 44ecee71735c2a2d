namespace ML.DeepExtensions.Benchmarks.Reporting;

/// <summary>
/// Throughput of several sides measured in interleaved rounds (each side once per round, so machine
/// drift hits all alike; the order rotates from round to round), round 0 a warm-up that is not kept, and the table of medians with each
/// side's ratio to a reference side.
/// </summary>
internal sealed class InterleavedSides
{
    private readonly List<(string Name, Func<double?> Measure, bool Bold, List<double> Rates)> _sides = [];

    /// <summary>Adds a side; <paramref name="measure"/> returns its rate for one round, or null when it is not run.</summary>
    public InterleavedSides Add(string name, Func<double?> measure, bool bold = false)
    {
        _sides.Add((name, measure, bold, []));
        return this;
    }

    /// <summary>Runs <paramref name="rounds"/> kept rounds after one warm-up round, reporting each round's rates as progress.</summary>
    public InterleavedSides Run(int rounds, string unit)
    {
        for (int round = 0; round <= rounds; round++)
        {
            // Each round starts one side later, so that no side always runs right after the same one
            // (after the PyTorch process, say, whose exit and page cache churn the next side meets).
            var rates = new double?[_sides.Count];
            for (int k = 0; k < _sides.Count; k++)
            {
                int i = (round + k) % _sides.Count;
                rates[i] = _sides[i].Measure();
            }

            BenchmarkCommand.Progress($"round {round}: {string.Join(", ", _sides.Zip(rates, (side, rate) => $"{side.Name} {(rate is double r ? Statistics.Number(r, 0) : "-")}"))} {unit} (load {Machine.LoadAverage()})");
            if (round == 0)
            {
                continue;
            }

            for (int i = 0; i < _sides.Count; i++)
            {
                if (rates[i] is double rate)
                {
                    _sides[i].Rates.Add(rate);
                }
            }
        }

        return this;
    }

    /// <summary>Medians, rounds and the ratio of each side's median to side <paramref name="reference"/>'s; sides that never ran are left out.</summary>
    public ReportTable Table(string unit, int reference)
    {
        var baseline = _sides[reference].Rates;
        var table = new ReportTable(("Side", false), ($"Median {unit}", true), ("Rounds", false), ("Ratio to raw TorchSharp", true));
        for (int i = 0; i < _sides.Count; i++)
        {
            var (name, _, bold, rates) = _sides[i];
            if (rates.Count == 0)
            {
                continue;
            }

            string ratio = i == reference ? "1.000" : Statistics.Number(Statistics.Ratio(rates, baseline), 3);
            table.AddRow(name, Statistics.Number(Statistics.Median(rates), 0), Statistics.Runs(rates, 0), bold ? $"**{ratio}**" : ratio);
        }

        return table;
    }
}
