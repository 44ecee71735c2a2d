using System.CommandLine;

namespace ML.DeepExtensions.Cli;

/// <summary>mldx: batch scoring, inspection and ONNX export of ML.NET models trained with ML.DeepExtensions.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
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

    /// <summary>Runs a command; user errors print their message alone and exit with their code.</summary>
    internal static Task<int> Run(Func<int> command)
    {
        try
        {
            return Task.FromResult(command());
        }
        catch (Exception e) when (CliException.Find(e) is { } user)
        {
            Console.Error.WriteLine($"error: {user.Message}");
            return Task.FromResult(user.ExitCode);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Interrupted; no output was written.");
            return Task.FromResult(ExitCodes.Cancelled);
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

            return Task.FromResult(ExitCodes.Internal);
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
