namespace ML.DeepExtensions.Training;

/// <summary>Validation shared by every options class: one message shape naming the setting, its rule and its value.</summary>
internal static class OptionChecks
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> "{name} {rule}; got {value}." unless <paramref name="condition"/>.</summary>
    public static void Require(bool condition, string name, object value, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}; got {value}.");
        }
    }
}
