using System.CommandLine;

namespace ML.DeepExtensions.Cli;

/// <summary>mldx: batch scoring, inspection and ONNX export of ML.NET models trained with ML.DeepExtensions.</summary>
internal static class Program
{
    /// <summary>Cancelled on Ctrl+C (SIGINT) or SIGTERM; commands check it between rows and clean up.</summary>
    internal static CancellationToken Interrupted => Interruption.Token;

    private static readonly CancellationTokenSource Interruption = new();

    public static async Task<int> Main(string[] args)
    {
        // Our own handlers (rather than System.CommandLine's) so that a run always unwinds: the
        // temporary output is deleted before the process ends.
        // Signal handlers run on the thread pool, which ML.NET's parallel cursors can keep busy with
        // blocking work: a few spare threads keep an interruption from waiting behind them.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Interrupt);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Interrupt);

        var root = new RootCommand("mldx: score files with ML.NET models trained by ML.DeepExtensions, inspect them, export their networks to ONNX.")
        {
            ScoreCommand.Create(),
            InspectCommand.Create(),
            ExportOnnxCommand.Create(),
        };
        int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        ReportLoadedAssemblies();
        return code;
    }

    private static void Interrupt(System.Runtime.InteropServices.PosixSignalContext context)
    {
        context.Cancel = true;
        Interruption.Cancel();
    }

    /// <summary>Runs a command; user errors print their message alone and exit with their code.</summary>
    internal static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception e) when (Interrupted.IsCancellationRequested && e is OperationCanceledException || CliException.Find(e) is null && Interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine("Interrupted; no output was written.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (CliException.Find(e) is { } user)
        {
            Console.Error.WriteLine($"error: {user.Message}");
            return user.ExitCode;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: unexpected failure: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("MLDX_DEBUG") == "1")
            {
                Console.Error.WriteLine(e);
            }
            else
            {
                Console.Error.WriteLine("(set MLDX_DEBUG=1 for the stack trace, and please report it)");
            }

            return ExitCodes.Internal;
        }
    }

    /// <summary>MLDX_REPORT_ASSEMBLIES=1 lists the loaded assemblies on stderr (tests check TorchSharp is never loaded).</summary>
    private static void ReportLoadedAssemblies()
    {
        if (Environment.GetEnvironmentVariable("MLDX_REPORT_ASSEMBLIES") == "1")
        {
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Order(StringComparer.Ordinal))
            {
                Console.Error.WriteLine($"loaded-assembly: {assembly}");
            }
        }
    }
}
