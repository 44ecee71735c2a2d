using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The ML.NET scorer stage that this library's trainers put after a network (see MLNet/MLNetScorers.cs):
/// the task's prediction transformer over an identity model, for binary a fixed Platt calibrator, then
/// dropping the raw output. Recognised precisely; the batched view then computes its columns for a
/// whole batch in a tight loop instead of running ML.NET's scorers, which split every cursor across
/// threads (ML.NET's consolidating cursors) and cost several times the network for a small MLP.
/// </summary>
/// <remarks>
/// The values follow ML.NET's own code: multiclass Score = MaximumEntropyModelParameters' softmax of
/// W·x + b (W = I, b = 0) and PredictedLabel = 1 + the first index of the largest score (0 when all are
/// NaN); binary Score = b + w·x, PredictedLabel = Score &gt; threshold, Probability =
/// 1 / (1 + exp(slope·Score + offset)) (NaN stays NaN); regression Score = b + w·x. Anything else — an
/// other model, other weights, other column names — is not recognised, and the chain runs as saved.
/// </remarks>
internal sealed class ScorerStage
{
    /// <summary>Logits closer than this (relative) to the largest one are scored by ML.NET's exact formula, so ties break as ML.NET breaks them.</summary>
    private const double TieMargin = 1e-5;

    /// <summary>
    /// Rows whose largest logit is larger in magnitude are scored by ML.NET's exact formula: ML.NET rounds
    /// its log-sum-exp to Single, which beyond this moves its scores by more than a few 1e-6 from the
    /// softmax (and beyond about 1e6 its 30-below-the-largest cut-off drops terms that matter).
    /// </summary>
    private const float FastRange = 32;

    /// <summary>Multiclass: the identity model's weight rows as ML.NET stores them (dense or sparse), for the exact formula.</summary>
    private readonly VBuffer<float>[] _weights = [];

    private ScorerStage(VBuffer<float>[] weights)
        : this(DeployableOnnx.Task.Multiclass, 2, weights.Length, 1, 0, 0, 0, 0)
    {
        _weights = weights;
    }

    private ScorerStage(DeployableOnnx.Task task, int leaves, int classes, float weight, float bias, float threshold, double slope, double offset)
    {
        Task = task;
        Leaves = leaves;
        Classes = classes;
        Weight = weight;
        Bias = bias;
        Threshold = threshold;
        Slope = slope;
        Offset = offset;
    }

    public DeployableOnnx.Task Task { get; }

    /// <summary>How many leaves after the network's own leaf the stage covers (the drop included).</summary>
    public int Leaves { get; }

    public int Classes { get; }

    public float Weight { get; }

    public float Bias { get; }

    public float Threshold { get; }

    public double Slope { get; }

    public double Offset { get; }

    /// <summary>The columns the stage adds, with the type ML.NET gives each.</summary>
    public IReadOnlyDictionary<string, DataViewType> Columns => Task switch
    {
        DeployableOnnx.Task.Multiclass => new Dictionary<string, DataViewType>
        {
            [ColumnNames.Score] = new VectorDataViewType(NumberDataViewType.Single, Classes),
            [ColumnNames.PredictedLabel] = new KeyDataViewType(typeof(uint), Classes),
        },
        DeployableOnnx.Task.Binary => new Dictionary<string, DataViewType>
        {
            [ColumnNames.Score] = NumberDataViewType.Single,
            [ColumnNames.PredictedLabel] = BooleanDataViewType.Instance,
            [ColumnNames.Probability] = NumberDataViewType.Single,
        },
        _ => new Dictionary<string, DataViewType> { [ColumnNames.Score] = NumberDataViewType.Single },
    };

    /// <summary>The stage after the network at <paramref name="networkIndex"/>, or null when the leaves that follow are anything else.</summary>
    public static ScorerStage? Recognise(IReadOnlyList<(ITransformer Transformer, string Directory)> leaves, int networkIndex, BatchedGraph graph)
    {
        ITransformer? Leaf(int offset) => networkIndex + offset < leaves.Count ? leaves[networkIndex + offset].Transformer : null;
        string raw = graph.OutputName;
        switch (Leaf(1))
        {
            case MulticlassPredictionTransformer<MaximumEntropyModelParameters> multiclass
                when multiclass.FeatureColumnName == raw && Leaf(2) is ColumnSelectingTransformer && IdentityWeights(multiclass.Model, (int)graph.OutputWidth) is { } weights:
                return new ScorerStage(weights);
            case BinaryPredictionTransformer<LinearBinaryModelParameters> binary
                when binary.FeatureColumnName == raw && graph.OutputWidth == 1 && binary.Model.Weights.Count == 1
                    && Leaf(2) is PlattCalibratorTransformer platt && Leaf(3) is ColumnSelectingTransformer
                    && ((ISingleFeaturePredictionTransformer<PlattCalibrator>)platt).FeatureColumnName == ColumnNames.Score
                    && ReadThreshold(binary) is { Column: ColumnNames.Score } threshold:
                var calibrator = ((ISingleFeaturePredictionTransformer<PlattCalibrator>)platt).Model;
                return new ScorerStage(DeployableOnnx.Task.Binary, 3, 1, binary.Model.Weights[0], binary.Model.Bias, threshold.Value, calibrator.Slope, calibrator.Offset);
            case RegressionPredictionTransformer<LinearRegressionModelParameters> regression
                when regression.FeatureColumnName == raw && graph.OutputWidth == 1 && regression.Model.Weights.Count == 1 && Leaf(2) is ColumnSelectingTransformer:
                return new ScorerStage(DeployableOnnx.Task.Regression, 2, 1, regression.Model.Weights[0], regression.Model.Bias, 0, 0, 0);
            default:
                return null;
        }
    }

    /// <summary>
    /// The stage's output schema as ML.NET computes it for the network and the stage's leaves over
    /// <paramref name="source"/>, and for each of its columns the source column it passes through
    /// (-1 for the stage's own columns); null when the schema is not the expected one (then the chain runs as saved).
    /// </summary>
    public (DataViewSchema Schema, int[] SourceOf)? Bind(IReadOnlyList<(ITransformer Transformer, string Directory)> leaves, int networkIndex, DataViewSchema source)
    {
        var schema = source;
        for (int i = networkIndex; i <= networkIndex + Leaves; i++)
        {
            schema = leaves[i].Transformer.GetOutputSchema(schema);
        }

        var added = Columns;
        var seen = new HashSet<string>();
        var sourceOf = new int[schema.Count];
        foreach (var column in schema)
        {
            if (column.IsHidden)
            {
                return null;
            }

            if (added.TryGetValue(column.Name, out var type))
            {
                if (!type.Equals(column.Type) || !seen.Add(column.Name))
                {
                    return null;
                }

                sourceOf[column.Index] = -1;
                continue;
            }

            // Pass-through: the visible source column of the same name, unchanged.
            if (source.GetColumnOrNull(column.Name) is not { IsHidden: false } input || !input.Type.Equals(column.Type))
            {
                return null;
            }

            sourceOf[column.Index] = input.Index;
        }

        return seen.Count == added.Count ? (schema, sourceOf) : null;
    }

    /// <summary>
    /// Multiclass: PredictedLabel (1-based key) for the first <paramref name="rows"/> rows of logits, and
    /// their Score: <paramref name="scores"/> holds ONNX Runtime's softmax of the logits on entry, and
    /// rows that need ML.NET's exact formula are overwritten.
    /// </summary>
    /// <remarks>
    /// Softmax and exp are monotonic, so the first largest score is at the first largest logit unless an
    /// earlier logit is so close that rounding could make the two scores equal; such rows, rows with a
    /// non-finite logit and rows whose largest logit is beyond ±32 take ML.NET's exact formula. The others
    /// keep ONNX Runtime's softmax (within a few 1e-6 of ML.NET's, whose log-sum-exp is rounded to Single)
    /// and the first largest logit as their label, which ML.NET's own scores give too.
    /// </remarks>
    public void Multiclass(ReadOnlySpan<float> logits, int rows, Span<float> scores, Span<uint> labels)
    {
        int k = Classes;
        double margin = TieMargin * (1 + Math.Log(k));
        for (int row = 0; row < rows; row++)
        {
            var x = logits.Slice(row * k, k);
            int top = 0;
            float max = x[0];

            // The largest logit before the first largest one: when max is found at i, every earlier logit
            // is at most the previous max. max - v - margin * (1 + |max| + |v|) falls as v grows, so if any
            // earlier logit is a tie, this one is.
            float before = float.NegativeInfinity;
            bool finite = float.IsFinite(max);
            for (int i = 1; i < k; i++)
            {
                float v = x[i];
                finite &= float.IsFinite(v);
                if (v > max)
                {
                    before = max;
                    max = v;
                    top = i;
                }
            }

            bool tie = top > 0 && (double)max - before <= margin * (1 + Math.Abs(max) + Math.Abs(before));
            labels[row] = !finite || tie || Math.Abs(max) > FastRange
                ? ExactMulticlass(x, scores.Slice(row * k, k))
                : (uint)top + 1;
        }
    }

    /// <summary>
    /// ML.NET's computation, operation for operation: the model's W·x + b over the weights as stored
    /// (so a NaN or infinite logit spreads to the classes a dense row multiplies it with, as in ML.NET),
    /// MathUtils.SoftMax (log-sum-exp in double over the values within 30 of the largest), exp(x - lse)
    /// per class, then the first index of the largest score with NaN ignored (0 when every score is NaN).
    /// </summary>
    internal uint ExactMulticlass(ReadOnlySpan<float> logits, Span<float> s)
    {
        Span<float> x = s;
        for (int c = 0; c < _weights.Length; c++)
        {
            var row = _weights[c];
            var values = row.GetValues();
            float dot = 0;
            if (row.IsDense)
            {
                for (int j = 0; j < values.Length; j++)
                {
                    dot += values[j] * logits[j];
                }
            }
            else
            {
                var indices = row.GetIndices();
                for (int j = 0; j < values.Length; j++)
                {
                    dot += values[j] * logits[indices[j]];
                }
            }

            x[c] = 0 + dot;
        }

        int top = 0;
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] > max)
            {
                top = i;
                max = x[i];
            }
        }

        float lse;
        if (float.IsNegativeInfinity(max))
        {
            lse = float.NegativeInfinity;
        }
        else if (x.Length == 1)
        {
            lse = max;
        }
        else
        {
            double sum = 0;
            float cutoff = max - 30;
            for (int i = 0; i < x.Length; i++)
            {
                if (i != top && x[i] > cutoff)
                {
                    sum += Math.Exp(x[i] - max);
                }
            }

            lse = sum > 0 ? (float)(max + Math.Log(1.0 + sum)) : max;
        }

        for (int i = 0; i < x.Length; i++)
        {
            s[i] = (float)Math.Exp(x[i] - lse);
        }

        int best = -1;
        float largest = float.NegativeInfinity;
        for (int i = s.Length - 1; i >= 0; i--)
        {
            if (largest <= s[i])
            {
                best = i;
                largest = s[i];
            }
        }

        return best < 0 ? 0u : (uint)best + 1;
    }

    /// <summary>Binary and regression: Score = bias + weight · raw.</summary>
    public float Score(float raw) => Bias + (Weight * raw);

    /// <summary>Binary: PlattCalibrator.PredictProbability.</summary>
    public float Probability(float score) => float.IsNaN(score) ? score : (float)(1 / (1 + Math.Exp((Slope * score) + Offset)));

    /// <summary>Binary: BinaryClassifierScorer's predicted label.</summary>
    public bool Predicted(float score) => score > Threshold;

    /// <summary>The model's weight rows when they are the identity and its biases zero; otherwise null.</summary>
    private static VBuffer<float>[]? IdentityWeights(MaximumEntropyModelParameters model, int classes)
    {
        VBuffer<float>[] weights = [];
        model.GetWeights(ref weights, out int count);
        if (count != classes || model.GetBiases().Any(b => b != 0))
        {
            return null;
        }

        for (int c = 0; c < classes; c++)
        {
            if (weights[c].Length != classes)
            {
                return null;
            }

            int i = 0;
            foreach (var value in weights[c].DenseValues())
            {
                if (value != (i == c ? 1f : 0f))
                {
                    return null;
                }

                i++;
            }
        }

        return weights[..classes];
    }

    /// <summary>The binary transformer's threshold and the column it applies to: internal in ML.NET 5, read by reflection; null if that changes.</summary>
    private static (string Column, float Value)? ReadThreshold(BinaryPredictionTransformer<LinearBinaryModelParameters> binary)
    {
        const BindingFlags Flags = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        var type = binary.GetType();
        return type.GetField("Threshold", Flags)?.GetValue(binary) is float value && type.GetField("ThresholdColumn", Flags)?.GetValue(binary) is string column
            ? (column, value)
            : null;
    }
}
