namespace ML.DeepExtensions.MLNet;

/// <summary>ML.NET's conventional column names (ML.NET keeps its own list internal).</summary>
public static class ColumnNames
{
    /// <summary>The input label column.</summary>
    public const string Label = "Label";

    /// <summary>The input features column.</summary>
    public const string Features = "Features";

    /// <summary>The raw score (multiclass: class probabilities; binary: logit; regression: prediction).</summary>
    public const string Score = "Score";

    /// <summary>The predicted label (key for multiclass, Boolean for binary).</summary>
    public const string PredictedLabel = "PredictedLabel";

    /// <summary>The probability of the positive class (binary).</summary>
    public const string Probability = "Probability";
}
