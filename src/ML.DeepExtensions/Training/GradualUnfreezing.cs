using System.Globalization;

namespace ML.DeepExtensions.Training;

/// <summary>Layers to unfreeze when an epoch begins.</summary>
/// <param name="Epoch">The 0-based epoch at whose start the layers become trainable.</param>
/// <param name="Layers">The layers to unfreeze.</param>
public sealed record UnfreezeStep(int Epoch, IReadOnlyList<LayerSelector> Layers)
{
    /// <summary>A stable description for logs and settings: "epoch 2: layer5, layer4".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"epoch {Epoch}: {string.Join(", ", Layers)}");
}

/// <summary>
/// Gradual unfreezing (ULMFiT style): a callback that makes frozen layers trainable at given epochs,
/// typically the head first and then the backbone from the top down. Freeze the layers with
/// <see cref="TrainingOptions.FrozenLayers"/> and add this callback to <see cref="TrainingOptions.Callbacks"/>:
/// <code>
/// FrozenLayers = [LayerSelector.AllExcept(LayerNames.Output)],
/// Callbacks = [GradualUnfreezing.LayerByLayer(everyEpochs: 2, "layer7", "layer6", "layer5")],
/// </code>
/// The optimizer already holds the frozen parameters (without gradients), so unfrozen layers train
/// with the learning rate of their parameter group. A resumed run unfreezes every step due by its epoch.
/// </summary>
public sealed class GradualUnfreezing : ITrainingCallback
{
    private readonly UnfreezeStep[] _steps;
    private readonly bool[] _applied;

    /// <summary>Unfreezes each step's layers when its epoch begins.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A step has a negative epoch or no layer.</exception>
    public GradualUnfreezing(IEnumerable<UnfreezeStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        _steps = [.. steps];
        _applied = new bool[_steps.Length];
        for (int i = 0; i < _steps.Length; i++)
        {
            var step = _steps[i] ?? throw new ArgumentNullException(nameof(steps), $"Step {i} is null.");
            OptionChecks.Require(step.Epoch >= 0, $"steps[{i}].Epoch", step.Epoch, "must be zero or positive");
            OptionChecks.Require(step.Layers is { Count: > 0 }, $"steps[{i}].Layers", "[]", "must select at least one layer");
        }
    }

    /// <summary>The steps, in the order given.</summary>
    public IReadOnlyList<UnfreezeStep> Steps => _steps;

    /// <summary>
    /// Unfreezes <paramref name="layersFromTop"/> one at a time: the first at epoch <paramref name="everyEpochs"/>,
    /// the second at 2 × <paramref name="everyEpochs"/>, and so on (the epochs before train what is not frozen, usually the head).
    /// </summary>
    public static GradualUnfreezing LayerByLayer(int everyEpochs, params LayerSelector[] layersFromTop)
    {
        OptionChecks.Require(everyEpochs > 0, nameof(everyEpochs), everyEpochs, "must be positive");
        ArgumentNullException.ThrowIfNull(layersFromTop);
        OptionChecks.Require(layersFromTop.Length > 0, nameof(layersFromTop), "[]", "must name at least one layer");
        return new GradualUnfreezing(layersFromTop.Select((layer, i) => new UnfreezeStep((i + 1) * everyEpochs, [layer])));
    }

    /// <summary>Checks every selected layer exists before the first epoch, so a misspelt name fails at once.</summary>
    public void OnTrainBegin(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        Array.Clear(_applied);
        foreach (var step in _steps)
        {
            foreach (var layer in step.Layers)
            {
                try
                {
                    _ = layer.Resolve(run.Model);
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"GradualUnfreezing ({step}): {e.Message}", e);
                }
            }
        }
    }

    /// <summary>Unfreezes the layers of every step due by <paramref name="epoch"/>.</summary>
    public void OnEpochBegin(TrainingRun run, int epoch)
    {
        ArgumentNullException.ThrowIfNull(run);
        for (int i = 0; i < _steps.Length; i++)
        {
            if (_applied[i] || _steps[i].Epoch > epoch)
            {
                continue;
            }

            foreach (var layer in _steps[i].Layers)
            {
                run.Unfreeze(layer);
            }

            _applied[i] = true;
        }
    }
}
