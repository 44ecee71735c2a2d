using System.Diagnostics;

namespace ML.DeepExtensions.Benchmarks.Engine;

/// <summary>
/// Wall time and the process's CPU time (all threads) over one training loop. CPU time over wall
/// time is the number of cores the loop kept busy: above 1 with one libtorch thread means another
/// thread (the data bridge's reader, the GC) worked alongside.
/// </summary>
internal sealed class LoopClock
{
    private long _startTimestamp;
    private TimeSpan _startCpu;

    public TimeSpan Wall { get; private set; }

    public TimeSpan Cpu { get; private set; }

    public void Start()
    {
        _startCpu = Environment.CpuUsage.TotalTime;
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    public void Stop()
    {
        Wall = Stopwatch.GetElapsedTime(_startTimestamp);
        Cpu = Environment.CpuUsage.TotalTime - _startCpu;
    }

    /// <summary>The run as a measurement of <paramref name="samples"/> samples.</summary>
    public LoopMeasurement Measure(double samples) => new(samples / Wall.TotalSeconds, Cpu.TotalSeconds / Wall.TotalSeconds);
}

/// <summary>Throughput of one run and the cores it kept busy.</summary>
internal readonly record struct LoopMeasurement(double SamplesPerSecond, double CoresBusy);
