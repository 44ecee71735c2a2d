using System.Globalization;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// Picks layers of a network by name or position, for freezing and parameter groups. Networks built
/// by this library are sequences of named layers: <c>normalize</c> (input normalisation, when
/// present), <c>layer0</c>, <c>layer1</c>, … (the described layers) and <c>output</c> (the head).
/// A name may be a dotted path to a module inside a layer (<c>layer3.conv1</c>).
/// </summary>
public abstract record LayerSelector
{
    private protected LayerSelector()
    {
    }

    /// <summary>The layer (or nested module) with this name or dotted path, and everything inside it.</summary>
    public static LayerSelector Named(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new NamedLayer(name);
    }

    /// <summary>The layer at this position of the network's top-level layers (0-based, <c>normalize</c> included when present).</summary>
    public static LayerSelector At(int index)
    {
        OptionChecks.Require(index >= 0, nameof(index), index, "must be zero or positive");
        return new LayerRange(index, index + 1);
    }

    /// <summary>The top-level layers from <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive).</summary>
    public static LayerSelector Range(int start, int end)
    {
        OptionChecks.Require(start >= 0, nameof(start), start, "must be zero or positive");
        OptionChecks.Require(end > start, nameof(end), end, "must be greater than start");
        return new LayerRange(start, end);
    }

    /// <summary>Every top-level layer except the one named <paramref name="name"/> (typically <c>output</c>: freeze the backbone).</summary>
    public static LayerSelector AllExcept(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new AllLayersExcept(name);
    }

    /// <summary>Same as <see cref="Named(string)"/>.</summary>
    public static implicit operator LayerSelector(string name) => Named(name);

    /// <summary>The module paths this selector picks in <paramref name="network"/>; throws naming the layers that exist when it picks none.</summary>
    internal abstract IReadOnlyList<string> Resolve(nn.Module network);

    private protected static List<string> TopLevel(nn.Module network) => network.named_children().Select(c => c.name).ToList();

    private protected static ArgumentException Unknown(string what, nn.Module network) => new(
        $"{what} does not exist in the network. Its layers are: {string.Join(", ", TopLevel(network))}.");

    /// <summary>The parameters of <paramref name="network"/> inside any of the selected module paths.</summary>
    internal static IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> ParametersOf(nn.Module network, IEnumerable<string> paths)
    {
        var prefixes = paths.Select(p => p + ".").ToArray();
        return network.named_parameters().Where(p => prefixes.Any(prefix => p.name.StartsWith(prefix, StringComparison.Ordinal)));
    }

    private sealed record NamedLayer(string Name) : LayerSelector
    {
        internal override IReadOnlyList<string> Resolve(nn.Module network) =>
            network.named_modules().Any(m => m.name == Name) ? [Name] : throw Unknown($"The layer '{Name}'", network);

        public override string ToString() => Name;
    }

    private sealed record LayerRange(int Start, int End) : LayerSelector
    {
        internal override IReadOnlyList<string> Resolve(nn.Module network)
        {
            var names = TopLevel(network);
            if (End > names.Count)
            {
                throw Unknown(End == Start + 1 ? $"Layer index {Start}" : $"Layer range [{Start}, {End})", network);
            }

            return names.GetRange(Start, End - Start);
        }

        public override string ToString() => End == Start + 1
            ? string.Create(CultureInfo.InvariantCulture, $"#{Start}")
            : string.Create(CultureInfo.InvariantCulture, $"#{Start}..#{End - 1}");
    }

    private sealed record AllLayersExcept(string Name) : LayerSelector
    {
        internal override IReadOnlyList<string> Resolve(nn.Module network)
        {
            var names = TopLevel(network);
            return names.Remove(Name) ? names : throw Unknown($"The layer '{Name}'", network);
        }

        public override string ToString() => $"all except {Name}";
    }
}

/// <summary>A group of parameters trained with its own learning-rate factor or weight decay (discriminative fine-tuning).</summary>
public sealed record ParameterGroupOptions
{
    /// <summary>The layers whose parameters form the group.</summary>
    public required IReadOnlyList<LayerSelector> Layers { get; init; }

    /// <summary>Multiplies the optimizer's learning rate (and its schedule) for this group. Default 1.</summary>
    public double LearningRateFactor { get; init; } = 1;

    /// <summary>The group's weight decay; null keeps the optimizer's.</summary>
    public double? WeightDecay { get; init; }

    internal void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(Layers, name + ".Layers");
        OptionChecks.Require(Layers.Count > 0, name + ".Layers", "[]", "must select at least one layer");
        OptionChecks.Require(LearningRateFactor > 0 && double.IsFinite(LearningRateFactor), name + ".LearningRateFactor", LearningRateFactor, "must be a positive number");
        OptionChecks.Require(WeightDecay is null or >= 0, name + ".WeightDecay", WeightDecay ?? 0, "must be zero or positive");
    }

    /// <summary>A stable description for checkpoint settings.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"[{string.Join(", ", Layers)}] x{LearningRateFactor} wd={(WeightDecay is double wd ? wd.ToString(CultureInfo.InvariantCulture) : "default")}");
}
