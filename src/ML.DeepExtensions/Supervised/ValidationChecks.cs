using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Supervised;

/// <summary>
/// The checks Fit runs on the validation data: they say that they are about the validation data, and
/// a multiclass validation label is matched against the training label's key.
/// </summary>
internal static class ValidationChecks
{
    /// <summary>
    /// Runs a schema check on the validation data; an <see cref="ArgumentException"/> it throws is
    /// rethrown saying that the problem is in the validation data.
    /// </summary>
    public static T OnValidationData<T>(IDataView validationData, Func<IDataView, T> check)
    {
        try
        {
            return check(validationData);
        }
        catch (ArgumentException error) when (error is not ArgumentOutOfRangeException && error.ParamName != nameof(validationData))
        {
            throw new ArgumentException($"In the validation data passed to Fit: {MessageWithoutParameter(error)}", nameof(validationData), error);
        }
    }

    /// <summary>
    /// Matches the validation label's key to the training key. Unchanged when the validation key has
    /// the training key's class names in the same order (or a leading part of them); mapped onto the
    /// training key when its names are text and all among the training names (another order, fewer
    /// classes); otherwise an error naming the column and both key sets.
    /// </summary>
    public static IDataView AlignClassKey(IDataView validationData, string labelColumn, IReadOnlyList<string> trainingNames)
    {
        var column = SchemaChecks.Find(validationData.Schema, labelColumn, "label");
        var key = (KeyDataViewType)column.Type;
        var names = KeyValueNames.Read(column)
            ?? Enumerable.Range(1, (int)Math.Min(key.Count, int.MaxValue)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (names.Length <= trainingNames.Count && names.SequenceEqual(trainingNames.Take(names.Length), StringComparer.Ordinal))
        {
            return validationData;
        }

        var training = new HashSet<string>(trainingNames, StringComparer.Ordinal);
        var unknown = names.Where(n => !training.Contains(n)).ToList();
        bool isText = column.Annotations.Schema.GetColumnOrNull(KeyValueNames.AnnotationKind)?.Type is VectorDataViewType { ItemType: TextDataViewType };
        if (unknown.Count > 0 || !isText || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            string why = unknown.Count > 0
                ? $"it has class(es) the training key does not know ({Describe(unknown)})"
                : "its classes are in another order and its key values are not text, so they cannot be mapped";
            throw new ArgumentException(
                $"The validation label column '{labelColumn}' has the key [{Describe(names)}], but the training label's key is [{Describe(trainingNames)}]: {why}. "
                + "Fit the key mapping (MapValueToKey) on the training data and apply that same fitted transformer to the validation data, "
                + "so both share one key.", nameof(validationData));
        }

        // Same classes in another order, or a subset: map each validation class onto its training key index.
        var context = new MLContext(seed: 0);
        string text = UniqueName(validationData.Schema, labelColumn + ".ClassName");
        var keyData = context.Data.LoadFromEnumerable(trainingNames.Select(n => new ClassName { Value = n }));
        var mapping = context.Transforms.Conversion.MapKeyToValue(text, labelColumn)
            .Append(context.Transforms.Conversion.MapValueToKey(labelColumn, text, keyData: keyData))
            .Append(context.Transforms.DropColumns(text));
        return mapping.Fit(validationData).Transform(validationData);
    }

    private static string Describe(IEnumerable<string> names)
    {
        var list = names.ToList();
        const int shown = 20;
        string head = string.Join(", ", list.Take(shown).Select(n => $"'{n}'"));
        return list.Count > shown ? $"{head}, ... ({list.Count} classes)" : head;
    }

    private static string UniqueName(DataViewSchema schema, string name)
    {
        string candidate = name;
        for (int i = 2; schema.GetColumnOrNull(candidate) is not null; i++)
        {
            candidate = $"{name}{i}";
        }

        return candidate;
    }

    /// <summary>The message an ArgumentException was given, without the " (Parameter 'x')" that Message appends.</summary>
    private static string MessageWithoutParameter(ArgumentException error)
    {
        if (error.ParamName is null)
        {
            return error.Message;
        }

        string suffix = new ArgumentException(null, error.ParamName).Message;
        // The bare message of an exception without text is the framework's default one; keep only the suffix part.
        int open = suffix.LastIndexOf(" (", StringComparison.Ordinal);
        suffix = open >= 0 ? suffix[open..] : suffix;
        return error.Message.EndsWith(suffix, StringComparison.Ordinal) ? error.Message[..^suffix.Length] : error.Message;
    }

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }
}
