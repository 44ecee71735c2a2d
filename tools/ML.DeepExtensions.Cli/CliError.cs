namespace ML.DeepExtensions.Cli;

/// <summary>The tool's exit codes; each user error class has its own.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command line itself is wrong (System.CommandLine's parse errors also exit with 1).</summary>
    public const int Usage = 1;

    /// <summary>The input data file is missing, empty, malformed or lacks a column the model needs.</summary>
    public const int InputData = 2;

    /// <summary>The model file is missing, not an ML.NET model, or has no network of ML.DeepExtensions.</summary>
    public const int Model = 3;

    /// <summary>The output exists (without --force) or cannot be written.</summary>
    public const int Output = 4;

    /// <summary>An unexpected failure (a bug): the message is printed, the stack trace only with MLDX_DEBUG=1.</summary>
    public const int Internal = 70;

    /// <summary>Interrupted (Ctrl+C or SIGTERM); no output file is left behind.</summary>
    public const int Cancelled = 130;
}

/// <summary>A user error: printed as its message alone, and the process exits with <see cref="ExitCode"/>.</summary>
internal sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Input(string message) => new(ExitCodes.InputData, message);

    public static CliException Output(string message, Exception? inner = null) => new(ExitCodes.Output, message, inner);

    public static CliException Model(string message, Exception? inner = null) => new(ExitCodes.Model, message, inner);

    /// <summary>Finds a user error wrapped by ML.NET's cursors (which may rethrow from their own threads).</summary>
    public static CliException? Find(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is CliException cli)
            {
                return cli;
            }

            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Find(inner) is { } found)
                    {
                        return found;
                    }
                }
            }
        }

        return null;
    }
}
