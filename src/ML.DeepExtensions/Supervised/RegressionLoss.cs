namespace ML.DeepExtensions.Supervised;

/// <summary>The loss of a regression network.</summary>
public enum RegressionLoss
{
    /// <summary>Mean squared error.</summary>
    MeanSquaredError,

    /// <summary>Mean absolute error (robust to outliers, slower to converge).</summary>
    MeanAbsoluteError,

    /// <summary>Huber loss: squared near zero, absolute beyond the options' HuberDelta.</summary>
    Huber,
}
