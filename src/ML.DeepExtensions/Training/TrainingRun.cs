using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// One training run: the step clock, the modules and optimizers being trained, learning-rate
/// schedules per optimizer, callbacks and their shared logs, progress, cancellation, the divergence
/// guard, and checkpoints (every N steps or N epochs) with bit-identical resume. The supervised
/// trainers drive it through <see cref="TrainingEngine"/>; a custom loop (reinforcement learning,
/// a GAN's alternating steps, anything without an <see cref="Data.IBatchSource"/>) drives it directly:
/// <code>
/// var run = new TrainingRun(options);
/// var policy = run.AddModule("policy", new PolicyNet());
/// run.CreateOptimizer("policy", policy, options.Optimizer);
/// run.AddState(replayBuffer);                     // an ICheckpointState
/// run.Start();                                    // resumes when options.ResumeFromCheckpoint is set
/// while (!run.ShouldStop)
/// {
///     using var scope = torch.NewDisposeScope();
///     run.BeginStep();                            // cancellation, schedules, callbacks
///     var loss = ...; loss.backward(); optimizer.step();
///     run.EndStep(new TrainingLogs { ["loss"] = loss.item&lt;float&gt;() });  // guard, callbacks, checkpoints
/// }
/// run.Finish();
/// </code>
/// Callbacks receive the run; they read it and talk back only through <see cref="StopTraining"/>.
/// </summary>
public sealed class TrainingRun
{
    private readonly List<(string Name, nn.Module Module)> _modules = [];
    private readonly List<RunOptimizer> _optimizers = [];
    private readonly Dictionary<string, ICheckpointState> _states = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private readonly List<(string Path, nn.Module Module)> _frozenModules = [];
    private readonly List<nn.Module> _unfrozenModules = [];
    private readonly Dictionary<string, string> _descriptions = new(StringComparer.Ordinal);
    private readonly List<ITrainingCallback> _callbackObjects;
    private readonly Stopwatch _stopwatch = new();
    private static readonly TrainingLogs EmptyLogs = [];
    private CallbackList _callbacks = new([]);
    private bool _started;
    private string? _pendingCheckpoint;
    private CheckpointContents? _resumed;

    /// <summary>Creates a run. Nothing is read or trained until <see cref="Start"/>.</summary>
    /// <param name="options">The run's options; validated here.</param>
    /// <param name="defaultSeed">The seed when <see cref="TrainingOptions.Seed"/> is null and no checkpoint is resumed (trainers pass the MLContext's).</param>
    /// <param name="builtInCallbacks">Callbacks a trainer adds (logging); called before <see cref="TrainingOptions.Callbacks"/>.</param>
    public TrainingRun(TrainingOptions options, int? defaultSeed = null, IEnumerable<ITrainingCallback>? builtInCallbacks = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        // A resumed run continues with the seed that wrote the checkpoint.
        Seed = options.Seed
            ?? (options.ResumeFromCheckpoint is { } checkpoint ? ReadResumedCheckpoint(checkpoint).Metadata.Seed : defaultSeed ?? Random.Shared.Next());
        Device = Devices.Resolve(options.Device);
        _callbackObjects = builtInCallbacks?.ToList() ?? [];
        if (options.EarlyStopping is { } early)
        {
            _callbackObjects.Add(new EarlyStopping(early));
        }

        _callbackObjects.AddRange(options.Callbacks);
    }

    /// <summary>The options of this run.</summary>
    public TrainingOptions Options { get; }

    /// <summary>The run's seed: the options' seed, the resumed checkpoint's, or the default given at creation.</summary>
    public int Seed { get; }

    /// <summary>The device tensors are trained on.</summary>
    public Device Device { get; }

    /// <summary>Logs of the completed epochs.</summary>
    public TrainingHistory History { get; } = new();

    /// <summary>The first module added: the network being trained.</summary>
    public nn.Module Model => _modules.Count > 0 ? _modules[0].Module : throw new InvalidOperationException("No module has been added to the run.");

    /// <summary>The modules being trained and checkpointed, by name (a GAN has two).</summary>
    public IReadOnlyList<(string Name, nn.Module Module)> Modules => _modules;

    /// <summary>The optimizers, in the order they were added.</summary>
    public IReadOnlyList<optim.Optimizer> Optimizers => _optimizers.Select(o => o.Optimizer).ToArray();

    /// <summary>Current 0-based epoch (the number of completed epochs).</summary>
    public int Epoch { get; private set; }

    /// <summary>The step clock: steps completed so far, which is also the global index of the next step.</summary>
    public long Step { get; private set; }

    /// <summary>Steps per epoch, when the loop knows it (schedules over the whole run need it or <see cref="TrainingOptions.MaxSteps"/>).</summary>
    public long StepsPerEpoch { get; set; }

    /// <summary>The run's length in steps for schedules: <see cref="TrainingOptions.MaxSteps"/>, else epochs × steps per epoch (0 when unknown).</summary>
    public long TotalSteps => Options.MaxSteps ?? (StepsPerEpoch * Options.Epochs);

    /// <summary>The current learning rate of the first optimizer's first parameter group.</summary>
    public double LearningRate => _optimizers.Count > 0 ? _optimizers[0].Optimizer.ParamGroups.First().LearningRate : 0;

    /// <summary>Set to true to end training (after the current epoch in the supervised engine).</summary>
    public bool StopTraining { get; set; }

    /// <summary>True when the loop should end: stopped by a callback, all epochs done, or the step budget spent.</summary>
    public bool ShouldStop => StopTraining || Epoch >= Options.Epochs || (Options.MaxSteps is long max && Step >= max);

    /// <summary>Whether some callback implements OnBatchEnd and reads its logs (filling them costs a device synchronisation).</summary>
    internal bool AnyCallbackReadsBatchLogs => _callbackObjects.Any(c => c.ReadsBatchLogs && TrainingEngine.ImplementsBatchEnd(c));

    /// <summary>The last checkpoint this run wrote, or null.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>
    /// Seeds libtorch for a run's weight initialisation. Build networks after this so that the same
    /// seed gives the same initial weights.
    /// </summary>
    public static void SeedForInitialisation(int seed) => random.manual_seed(DeriveSeed(seed, -1));

    /// <summary>Adds a module to train and checkpoint; it is moved to <see cref="Device"/> if it is elsewhere (add it before creating its optimizer).</summary>
    /// <param name="name">The module's name in checkpoints.</param>
    /// <param name="module">The module.</param>
    /// <param name="description">Its layer description, stored in checkpoints so they can be rebuilt into networks; null for none.</param>
    public T AddModule<T>(string name, T module, Layers.NetworkDescription? description = null)
        where T : nn.Module
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(module);
        RequireNotStarted();
        if (_modules.Any(m => m.Name == name))
        {
            throw new ArgumentException($"The run already has a module named '{name}'.", nameof(name));
        }

        // Moving re-creates parameters, which would cut them off from an optimizer made earlier.
        if (module.parameters().Any(p => p.device_type != Device.type) || module.buffers().Any(b => b.device_type != Device.type))
        {
            module.to(Device);
        }

        _modules.Add((name, module));
        if (description is not null)
        {
            _descriptions[name] = description.ToJson();
            RecordSetting($"module.{name}.layers", string.Join(", ", description.Layers.Select(l => l.Describe())) + $" -> {description.Outputs}");
        }

        return module;
    }

    /// <summary>
    /// Creates an optimizer over <paramref name="module"/>'s trainable parameters with the run's
    /// <see cref="TrainingOptions.ParameterGroups"/> and <see cref="TrainingOptions.FrozenLayers"/> (both
    /// resolved on the run's first module only), and adds it under <paramref name="name"/>.
    /// Frozen parameters are in the optimizer too, in the group they would train in, but get no
    /// gradient, so every optimizer leaves them unchanged (AdamW's decoupled weight decay included)
    /// until <see cref="Unfreeze"/> makes them trainable.
    /// </summary>
    /// <param name="name">The optimizer's name in checkpoints and settings.</param>
    /// <param name="module">A module added with <see cref="AddModule{T}"/>.</param>
    /// <param name="optimizer">The algorithm and its settings.</param>
    /// <param name="schedule">Its learning-rate schedule; null for constant.</param>
    /// <exception cref="ArgumentException">A selected layer does not exist, or no parameter is left to train.</exception>
    public optim.Optimizer CreateOptimizer(string name, nn.Module module, OptimizerOptions optimizer, LearningRateSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(optimizer);
        bool primary = _modules.Count > 0 && ReferenceEquals(_modules[0].Module, module);
        if (primary)
        {
            Freeze(module);
        }

        var groups = new List<(IReadOnlyList<TorchSharp.Modules.Parameter>, double, double?)>();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        if (primary)
        {
            foreach (var group in Options.ParameterGroups)
            {
                var parameters = LayerSelector.ParametersOf(module, group.Layers.SelectMany(l => l.Resolve(module)))
                    .Where(p => claimed.Add(p.Name)).Select(p => p.Parameter).ToList();
                if (parameters.Count > 0)
                {
                    groups.Add((parameters, group.LearningRateFactor, group.WeightDecay));
                }
            }
        }

        var rest = module.named_parameters().Where(p => !claimed.Contains(p.name)).Select(p => p.parameter).ToList();
        if (rest.Count > 0)
        {
            groups.Insert(0, (rest, 1.0, null));
        }

        if (!module.parameters().Any(p => p.requires_grad))
        {
            throw new ArgumentException(
                $"The optimizer '{name}' has no parameter to train: every parameter of the module is frozen (FrozenLayers = [{string.Join(", ", Options.FrozenLayers)}]). Unfreeze at least the output layer.",
                nameof(module));
        }

        RecordSettings($"optimizer.{name}", optimizer);
        RecordSetting($"optimizer.{name}.schedule", schedule?.ToString() ?? "constant");
        return AddOptimizer(name, optimizer.Create(groups), schedule);
    }

    /// <summary>Adds an optimizer the loop built itself; the run schedules its learning rates and checkpoints its state.</summary>
    public optim.Optimizer AddOptimizer(string name, optim.Optimizer optimizer, LearningRateSchedule? schedule = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(optimizer);
        RequireNotStarted();
        if (_optimizers.Any(o => o.Name == name))
        {
            throw new ArgumentException($"The run already has an optimizer named '{name}'.", nameof(name));
        }

        schedule?.Validate();
        _optimizers.Add(new RunOptimizer(name, optimizer, schedule));
        RecordSetting($"optimizer.{name}.type", optimizer.GetType().Name);
        return optimizer;
    }

    /// <summary>Adds a callback, called after those given at creation and in the options.</summary>
    public void AddCallback(ITrainingCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        RequireNotStarted();
        _callbackObjects.Add(callback);
    }

    /// <summary>Adds extra state that checkpoints carry (a replay buffer, an environment, a sampler position).</summary>
    public void AddState(ICheckpointState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        RequireNotStarted();
        if (!_states.TryAdd(state.StateKey, state))
        {
            throw new ArgumentException($"The run already has a state with key '{state.StateKey}'.", nameof(state));
        }
    }

    /// <summary>
    /// Records a setting that changes the result (a batch size, a discount factor). Checkpoints store
    /// the settings, and a resume with a different value is refused naming both.
    /// </summary>
    public void RecordSetting(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        _settings[name] = value;
    }

    /// <summary>
    /// Starts the run: sets threads, checks the checkpoint folder, resumes from
    /// <see cref="TrainingOptions.ResumeFromCheckpoint"/> (modules, optimizers, states, history, schedules,
    /// random state and clock) and calls <see cref="ITrainingCallback.OnTrainBegin"/>.
    /// </summary>
    public void Start()
    {
        RequireNotStarted();
        _started = true;
        if (Options.IntraOpThreads is int threads)
        {
            set_num_threads(threads);
        }

        if (Options.Checkpoints is { } checkpoints)
        {
            CheckpointFile.EnsureWritable(checkpoints.Directory);
        }

        if (_optimizers.Any(o => o.Schedule?.NeedsTotalSteps == true) && TotalSteps == 0)
        {
            throw new InvalidOperationException(
                "A learning-rate schedule over the whole run needs its length: set MaxSteps, or StepsPerEpoch on the run (the batch source does not know its batches per epoch).");
        }

        RecordEngineSettings();
        _callbacks = new CallbackList(_callbackObjects);
        foreach (var state in _callbackObjects.OfType<ICheckpointState>())
        {
            _states.TryAdd(state.StateKey, state);
        }

        if (Options.ResumeFromCheckpoint is { } path)
        {
            Restore(path);
        }

        _stopwatch.Start();
        _callbacks.OnTrainBegin(this);
    }

    /// <summary>Begins an epoch: cancellation, the epoch's random seed, training mode, callbacks.</summary>
    public void BeginEpoch()
    {
        RequireStarted();
        WritePendingCheckpoint();
        Options.CancellationToken.ThrowIfCancellationRequested();
        random.manual_seed(DeriveSeed(Seed, Epoch));
        SetTraining(true);
        _callbacks.OnEpochBegin(this, Epoch);
    }

    /// <summary>Begins a step: cancellation, every optimizer's scheduled learning rate, callbacks.</summary>
    public void BeginStep()
    {
        WritePendingCheckpoint();
        Options.CancellationToken.ThrowIfCancellationRequested();
        foreach (var optimizer in _optimizers)
        {
            optimizer.Apply(new ScheduleClock(Epoch, Step, Math.Max(1, StepsPerEpoch), TotalSteps, optimizer.PlateauFactor));
        }

        _callbacks.OnBatchBegin(this, Step);
    }

    /// <summary>
    /// Ends a step: checks <paramref name="logs"/> for NaN or infinite values (throwing
    /// <see cref="TrainingDivergedException"/>), calls the callbacks, advances the clock and writes a
    /// checkpoint when one is due (written as the next step begins).
    /// </summary>
    /// <param name="logs">The step's values, or null. Valid during the call only.</param>
    public void EndStep(TrainingLogs? logs = null)
    {
        if (logs is not null)
        {
            foreach (var (name, value) in logs)
            {
                EnsureFinite(name, value);
            }
        }

        _callbacks.OnBatchEnd(this, Step, logs ?? EmptyLogs);
        Step++;
        if (Options.Checkpoints is { EverySteps: > 0 } every && Step % every.EverySteps == 0)
        {
            _pendingCheckpoint = Path.Combine(every.Directory, CheckpointFile.StepFileName(Step));
        }
    }

    /// <summary>
    /// Ends an epoch (or an evaluation period of a step-driven loop): checks its losses, adds the
    /// learning rate, calls the callbacks (early stopping, plateau schedules), appends the logs to the
    /// history, reports progress and writes a checkpoint when one is due.
    /// </summary>
    public void EndEpoch(TrainingLogs logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        foreach (var (name, value) in logs)
        {
            if (name.Contains(TrainingLogs.Loss, StringComparison.Ordinal))
            {
                EnsureFinite(name, value);
            }
        }

        logs[TrainingLogs.LearningRate] = LearningRate;
        _callbacks.OnEpochEnd(this, Epoch, logs);
        // After the callbacks, which may add metrics of their own (an RL reward, say).
        foreach (var optimizer in _optimizers)
        {
            optimizer.ObservePlateau(Epoch, logs);
        }

        History.Add(logs);
        Epoch++;
        Options.Progress?.Report(new TrainingProgress(Epoch, Options.Epochs, Step, logs, _stopwatch.Elapsed));
        if (Options.Checkpoints is { EveryEpochs: > 0 } every && Epoch % every.EveryEpochs == 0)
        {
            _pendingCheckpoint = Path.Combine(every.Directory, CheckpointFile.EpochFileName(Epoch));
        }
    }

    /// <summary>Ends the run: writes a due checkpoint, calls <see cref="ITrainingCallback.OnTrainEnd"/> (early stopping restores its best weights) and puts the modules in eval mode.</summary>
    public void Finish()
    {
        RequireStarted();
        WritePendingCheckpoint();
        _callbacks.OnTrainEnd(this);
        SetTraining(false);
    }

    /// <summary>Training or eval mode for every module; layers frozen with <see cref="TrainingOptions.FreezeBatchNormStatistics"/> stay in eval mode.</summary>
    public void SetTraining(bool training)
    {
        foreach (var (_, module) in _modules)
        {
            module.train(training);
        }

        if (training && Options.FreezeBatchNormStatistics)
        {
            foreach (var (_, frozen) in _frozenModules)
            {
                frozen.eval();
            }

            // A layer unfrozen inside a frozen one trains again.
            foreach (var unfrozen in _unfrozenModules)
            {
                unfrozen.train();
            }
        }
    }

    /// <summary>
    /// Makes the selected layers of the first module trainable (gradual unfreezing; see
    /// <see cref="GradualUnfreezing"/>): their parameters get gradients from the next step on, and their
    /// batch normalisation trains. The run's optimizers already hold them (see <see cref="CreateOptimizer"/>),
    /// in the parameter groups they were assigned, so their learning rates follow those groups.
    /// </summary>
    /// <exception cref="ArgumentException">A selected layer does not exist; the message lists the layers.</exception>
    public void Unfreeze(LayerSelector layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var model = Model;
        foreach (var path in layers.Resolve(model))
        {
            var module = model.named_modules().First(m => m.name == path).module;
            foreach (var parameter in module.parameters())
            {
                parameter.requires_grad = true;
            }

            _frozenModules.RemoveAll(f => f.Path == path || f.Path.StartsWith(path + ".", StringComparison.Ordinal));
            if (_frozenModules.Any(f => path.StartsWith(f.Path + ".", StringComparison.Ordinal)))
            {
                _unfrozenModules.Add(module);
            }

            if (model.training)
            {
                module.train();
            }
        }
    }

    /// <summary>Throws <see cref="TrainingDivergedException"/> when <paramref name="value"/> is NaN or infinite.</summary>
    public void EnsureFinite(string name, double value)
    {
        if (double.IsFinite(value))
        {
            return;
        }

        string last = LastCheckpoint is null ? "No checkpoint was written before it." : $"The last checkpoint before it, '{LastCheckpoint}', is kept.";
        throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged: '{name}' became {value} in epoch {Epoch + 1}, at step {Step}. The model is unusable, so training stopped. "
            + $"Lower the learning rate (it is {LearningRate:G4}), set GradientClipNorm, or check the data for extreme values. {last}"))
        {
            Epoch = Epoch,
            Step = Step,
            Metric = name,
            LastCheckpoint = LastCheckpoint,
        };
    }

    /// <summary>Writes a checkpoint of the whole run to <paramref name="path"/> (never overwriting a file).</summary>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var contents = new CheckpointContents();
        contents.Metadata = new CheckpointMetadata
        {
            CompletedEpochs = Epoch,
            GlobalStep = Step,
            Seed = Seed,
            History = History.Epochs.Select(e => new Dictionary<string, double>(e)).ToList(),
            Settings = new Dictionary<string, string>(_settings, StringComparer.Ordinal),
            RandomState = RandomStateBase64(),
            Networks = new Dictionary<string, string>(_descriptions, StringComparer.Ordinal),
        };
        foreach (var optimizer in _optimizers)
        {
            contents.Optimizers[optimizer.Name] = CheckpointFile.SaveOptimizer(optimizer.Optimizer);
            contents.Metadata.PlateauFactors[optimizer.Name] = optimizer.PlateauFactor;
            if (optimizer.PlateauMonitor is { } monitor)
            {
                contents.Metadata.PlateauMonitors[optimizer.Name] = monitor.GetState();
            }
        }

        foreach (var (name, module) in _modules)
        {
            // state_dict's tensors belong to the module: the dictionary is not disposed with the contents.
            contents.Modules[name] = new Dictionary<string, Tensor>(module.state_dict(), StringComparer.Ordinal);
        }

        foreach (var (key, state) in _states)
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                state.SaveState(writer);
            }

            contents.States[key] = stream.ToArray();
        }

        CheckpointFile.Write(path, contents);
        contents.Modules.Clear();
        LastCheckpoint = path;
    }

    /// <summary>
    /// A due checkpoint is written when the next step or epoch begins or the run finishes, so it also
    /// holds what the loop did after <see cref="EndStep"/> (an evaluation, <see cref="EndEpoch"/>).
    /// </summary>
    private void WritePendingCheckpoint()
    {
        if (_pendingCheckpoint is { } path)
        {
            _pendingCheckpoint = null;
            SaveCheckpoint(path);
        }
    }

    private void Restore(string path)
    {
        // Read (and checksummed) once: the constructor may have read it already for its seed.
        using var contents = _resumed ?? CheckpointFile.Read(path);
        _resumed = null;
        var metadata = contents.Metadata;
        if (metadata.Seed != Seed)
        {
            throw new InvalidOperationException(
                $"The checkpoint '{path}' was written by a run with seed {metadata.Seed}; resuming with seed {Seed} would not continue that run. Set Seed = {metadata.Seed} (or leave it unset in a trainer).");
        }

        CompareSettings(metadata.Settings, path);
        if (metadata.CompletedEpochs > Options.Epochs)
        {
            throw new InvalidOperationException(
                $"The checkpoint '{path}' has completed {metadata.CompletedEpochs} epochs, but Epochs = {Options.Epochs}: there is nothing left to train. Set Epochs to more than {metadata.CompletedEpochs}.");
        }

        foreach (var (name, module) in _modules)
        {
            var state = contents.Modules.GetValueOrDefault(name)
                ?? throw new InvalidDataException($"The checkpoint '{path}' has no module '{name}' (it has: {string.Join(", ", contents.Modules.Keys)}).");
            CheckpointFile.LoadModelState(module, state, path);
        }

        foreach (var optimizer in _optimizers)
        {
            var state = contents.Optimizers.GetValueOrDefault(optimizer.Name)
                ?? throw new InvalidDataException($"The checkpoint '{path}' has no optimizer '{optimizer.Name}' (it has: {string.Join(", ", contents.Optimizers.Keys)}).");
            CheckpointFile.LoadOptimizer(optimizer.Optimizer, state, path, optimizer.Name);
            optimizer.PlateauFactor = metadata.PlateauFactors.GetValueOrDefault(optimizer.Name, 1.0);
            if (optimizer.PlateauMonitor is { } monitor && metadata.PlateauMonitors.TryGetValue(optimizer.Name, out var monitorState))
            {
                monitor.SetState(monitorState);
            }
        }

        foreach (var (key, state) in _states)
        {
            var bytes = contents.States.GetValueOrDefault(key)
                ?? throw new InvalidDataException($"The checkpoint '{path}' has no state '{key}' (it has: {string.Join(", ", contents.States.Keys)}).");
            try
            {
                using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
                state.LoadState(reader);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or JsonException or ArgumentException)
            {
                throw new InvalidDataException($"The checkpoint '{path}' holds a state '{key}' that could not be read: {e.Message}", e);
            }
        }

        foreach (var logs in metadata.History)
        {
            History.Add(new TrainingLogs(logs));
        }

        if (metadata.RandomState is { } randomState)
        {
            using var rng = tensor(Convert.FromBase64String(randomState));
            random.set_rng_state(rng);
        }

        Epoch = metadata.CompletedEpochs;
        Step = metadata.GlobalStep;
    }

    private CheckpointContents ReadResumedCheckpoint(string path) => _resumed = CheckpointFile.Read(path);

    private void CompareSettings(Dictionary<string, string> saved, string path)
    {
        var differences = saved.Keys.Union(_settings.Keys)
            .Where(key => saved.GetValueOrDefault(key) != _settings.GetValueOrDefault(key))
            .Order(StringComparer.Ordinal)
            .Select(key => $"{key}: {saved.GetValueOrDefault(key) ?? "(not set)"} in the checkpoint, {_settings.GetValueOrDefault(key) ?? "(not set)"} now")
            .ToList();
        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                $"The checkpoint '{path}' was written with other settings, so resuming would not continue that run: {string.Join("; ", differences)}. "
                + "Resume with the checkpoint's settings, or start a new run (for fine-tuning from a trained model, use it as a pretrained starting point instead).");
        }
    }

    private void RecordEngineSettings()
    {
        if (_optimizers.Any(o => o.Schedule?.NeedsTotalSteps == true))
        {
            RecordSetting("TotalSteps", TotalSteps.ToString(CultureInfo.InvariantCulture));
        }

        RecordSetting(nameof(TrainingOptions.GradientClipNorm), Options.GradientClipNorm?.ToString(CultureInfo.InvariantCulture) ?? "none");
        RecordSetting(nameof(TrainingOptions.FrozenLayers), string.Join(", ", Options.FrozenLayers));
        RecordSetting(nameof(TrainingOptions.ParameterGroups), string.Join("; ", Options.ParameterGroups));
        RecordSetting(nameof(TrainingOptions.FreezeBatchNormStatistics), Options.FreezeBatchNormStatistics.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Records every public property of an options record as a setting named <c>{prefix}.{property}</c>.</summary>
    internal void RecordSettings(string prefix, object record)
    {
        foreach (var property in record.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0))
        {
            RecordSetting($"{prefix}.{property.Name}", Convert.ToString(property.GetValue(record), CultureInfo.InvariantCulture) ?? "null");
        }
    }

    private void Freeze(nn.Module module)
    {
        foreach (var path in Options.FrozenLayers.SelectMany(l => l.Resolve(module)).Distinct(StringComparer.Ordinal))
        {
            var frozen = module.named_modules().First(m => m.name == path).module;
            foreach (var parameter in frozen.parameters())
            {
                parameter.requires_grad = false;
            }

            _frozenModules.Add((path, frozen));
        }
    }

    private static string RandomStateBase64()
    {
        using var state = random.get_rng_state();
        return Convert.ToBase64String(state.data<byte>().ToArray());
    }

    private void RequireNotStarted()
    {
        if (_started)
        {
            throw new InvalidOperationException("The run has started: modules, optimizers and states must be added before Start().");
        }
    }

    private void RequireStarted()
    {
        if (!_started)
        {
            throw new InvalidOperationException("Call Start() first.");
        }
    }

    /// <summary>A well-mixed per-epoch seed (SplitMix64 finaliser), so epochs do not share random streams.</summary>
    internal static long DeriveSeed(int seed, int epoch)
    {
        ulong z = unchecked(((ulong)(uint)seed << 32) ^ (ulong)(uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) & 0x7FFF_FFFF_FFFF_FFFFUL);
    }

    /// <summary>An optimizer of the run with its base rates, schedule and plateau state.</summary>
    private sealed class RunOptimizer
    {
        private readonly double[] _baseRates;
        private readonly ReduceOnPlateauSchedule? _plateau;

        public RunOptimizer(string name, optim.Optimizer optimizer, LearningRateSchedule? schedule)
        {
            Name = name;
            Optimizer = optimizer;
            Schedule = schedule;
            _baseRates = optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();
            _plateau = ReduceOnPlateauSchedule.FindIn(schedule);
            PlateauMonitor = _plateau is null ? null : new MetricMonitor(_plateau.Monitor, _plateau.Mode, _plateau.MinDelta);
        }

        public string Name { get; }

        public optim.Optimizer Optimizer { get; }

        public LearningRateSchedule? Schedule { get; }

        public MetricMonitor? PlateauMonitor { get; }

        public double PlateauFactor { get; set; } = 1.0;

        public void Apply(ScheduleClock clock)
        {
            if (Schedule is null)
            {
                return;
            }

            double factor = Schedule.Factor(clock);
            int g = 0;
            foreach (var group in Optimizer.ParamGroups)
            {
                group.LearningRate = _baseRates[g++] * factor;
            }
        }

        public void ObservePlateau(int epoch, TrainingLogs logs)
        {
            if (_plateau is not null && PlateauMonitor is not null && !PlateauMonitor.Observe(epoch, logs)
                && PlateauMonitor.EpochsWithoutImprovement > _plateau.Patience)
            {
                PlateauFactor = Math.Max(_plateau.MinFactor, PlateauFactor * _plateau.ReductionFactor);
                PlateauMonitor.ResetWait();
            }
        }
    }
}
