using ML.DeepExtensions.Training;
using Spectre.Console;

/// <summary>
/// A live Spectre.Console progress bar fed by the trainer's <c>Progress</c> option: one step per
/// epoch, the latest metrics beside it. Without an interactive terminal (output redirected, CI),
/// where Spectre.Console would only print a percentage every second, it writes a plain line for
/// the first epoch, every tenth of the run and the last epoch instead.
/// </summary>
/// <remarks>
/// It implements <see cref="IProgress{T}"/> itself: <see cref="Progress{T}"/> would post each report to
/// the thread pool and so could show epochs late or out of order.
/// </remarks>
internal sealed class TrainingProgressBar : IProgress<TrainingProgress>
{
    private ProgressTask? _task;
    private TrainingProgress? _last;
    private bool _plain;

    /// <summary>Runs <paramref name="train"/> (a Fit whose options carry this object as Progress) under the bar.</summary>
    public T Run<T>(string title, Func<T> train)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            _plain = true;
            try
            {
                return train();
            }
            finally
            {
                if (_last is { } last && last.Epoch < last.Epochs)
                {
                    Console.WriteLine($"   {title}: ended after epoch {last.Epoch} of {last.Epochs}");
                }
            }
        }

        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                // The first report sets the real number of epochs.
                _task = context.AddTask(Markup.Escape(title), maxValue: 1);
                try
                {
                    return train();
                }
                finally
                {
                    // Early stopping ends before the last epoch: show the bar full at the epoch it reached.
                    _task.MaxValue = Math.Max(_task.Value, 1);
                    _task.StopTask();
                }
            });
    }

    public void Report(TrainingProgress value)
    {
        _last = value;
        string line = $"epoch {value.Epoch}/{value.Epochs}  {Summary(value.Logs)}";
        if (_plain)
        {
            int every = Math.Max(1, value.Epochs / 10);
            if (value.Epoch == 1 || value.Epoch % every == 0 || value.Epoch == value.Epochs)
            {
                Console.WriteLine("   " + line);
            }

            return;
        }

        if (_task is null)
        {
            return;
        }

        _task.MaxValue = value.Epochs;
        _task.Value = value.Epoch;
        _task.Description = Markup.Escape(line);
    }

    /// <summary>Losses with 3 decimals, accuracies as percentages, the learning rate in 3 digits.</summary>
    private static string Summary(TrainingLogs logs) => string.Join("  ", logs.Select(metric => metric.Key switch
    {
        TrainingLogs.LearningRate => FormattableString.Invariant($"lr {metric.Value:G3}"),
        _ when metric.Key.Contains("accuracy", StringComparison.Ordinal) => FormattableString.Invariant($"{metric.Key} {metric.Value:P1}"),
        _ => FormattableString.Invariant($"{metric.Key} {metric.Value:F3}"),
    }));
}
