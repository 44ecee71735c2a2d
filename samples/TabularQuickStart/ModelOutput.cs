namespace TabularQuickStart;

/// <summary>What the pipeline adds that we read back: the class name and the class probabilities.</summary>
public sealed class ModelOutput
{
    /// <summary>The predicted class name, from MapKeyToValue over the trainer's PredictedLabel key.</summary>
    public string PredictedSpecies { get; set; } = "";

    /// <summary>Softmax probabilities, one per class, in the order of the Label key.</summary>
    public float[] Score { get; set; } = [];
}
