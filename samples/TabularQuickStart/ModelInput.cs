using Microsoft.ML.Data;

namespace TabularQuickStart;

/// <summary>One row of iris.csv: four measurements in centimetres and the class index 0..2.</summary>
public sealed class ModelInput
{
    [LoadColumn(0)]
    public float SepalLength { get; set; }

    [LoadColumn(1)]
    public float SepalWidth { get; set; }

    [LoadColumn(2)]
    public float PetalLength { get; set; }

    [LoadColumn(3)]
    public float PetalWidth { get; set; }

    /// <summary>0 = setosa, 1 = versicolor, 2 = virginica (the order of the file's header).</summary>
    [LoadColumn(4)]
    public int ClassIndex { get; set; }
}
