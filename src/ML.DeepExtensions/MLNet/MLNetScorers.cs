using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// Puts ML.NET's own scorers after the ONNX graph, so our models' output columns are exactly those
/// of ML.NET's trainers (scalar Score, Probability and PredictedLabel with their annotations).
/// </summary>
/// <remarks>
/// Why: ML.NET 5.0's OnnxTransformer reads every rank-0 ONNX output through its map/sequence path,
/// which fails, so an ONNX graph can only deliver vectors. The graph therefore ends at the raw
/// network output (a vector), and an identity linear model scored by ML.NET's prediction
/// transformer turns it into conventional columns. Those models and transformers have only internal
/// constructors, reached here by reflection at training time; a saved model contains nothing but
/// ML.NET's own types and loads without this library. If an ML.NET upgrade changes a constructor,
/// training fails here with a message naming it (and the scorer tests fail).
/// </remarks>
internal static class MLNetScorers
{
    /// <summary>Multiclass: Score = softmax(logits) (Vector&lt;Single, K&gt;), PredictedLabel = argmax as a key with the label's key values.</summary>
    public static ITransformer Multiclass(IHostEnvironment environment, DataViewSchema schema, string logitsColumn, int classes, string labelColumn, string[] classNames)
    {
        var rows = Enumerable.Range(0, classes).Select(c =>
        {
            var row = new float[classes];
            row[c] = 1f;
            return new VBuffer<float>(classes, row);
        }).ToArray();
        var model = (MaximumEntropyModelParameters)Construct(typeof(MaximumEntropyModelParameters),
            [typeof(IHostEnvironment), typeof(VBuffer<float>[]), typeof(float[]), typeof(int), typeof(int), typeof(string[]), typeof(ModelStatisticsBase)],
            [environment, rows, new float[classes], classes, classes, classNames, null]);
        return (ITransformer)Construct(typeof(MulticlassPredictionTransformer<MaximumEntropyModelParameters>),
            [typeof(IHostEnvironment), typeof(MaximumEntropyModelParameters), typeof(DataViewSchema), typeof(string), typeof(string), typeof(string), typeof(string)],
            [environment, model, schema, logitsColumn, labelColumn, ColumnNames.Score, ColumnNames.PredictedLabel]);
    }

    /// <summary>Binary: Score = the logit, PredictedLabel = logit &gt; 0. Probability is added by a fixed Platt calibrator.</summary>
    public static ITransformer Binary(IHostEnvironment environment, DataViewSchema schema, string logitColumn)
    {
        var weights = new VBuffer<float>(1, [1f]);
        var model = (LinearBinaryModelParameters)Construct(typeof(LinearBinaryModelParameters),
            [typeof(IHostEnvironment), typeof(VBuffer<float>).MakeByRefType(), typeof(float), typeof(ModelStatisticsBase)],
            [environment, weights, 0f, null]);
        return (ITransformer)Construct(typeof(BinaryPredictionTransformer<LinearBinaryModelParameters>),
            [typeof(IHostEnvironment), typeof(LinearBinaryModelParameters), typeof(DataViewSchema), typeof(string), typeof(float), typeof(string)],
            [environment, model, schema, logitColumn, 0f, ColumnNames.Score]);
    }

    /// <summary>Regression: Score = the network output.</summary>
    public static ITransformer Regression(IHostEnvironment environment, DataViewSchema schema, string outputColumn)
    {
        var weights = new VBuffer<float>(1, [1f]);
        var model = (LinearRegressionModelParameters)Construct(typeof(LinearRegressionModelParameters),
            [typeof(IHostEnvironment), typeof(VBuffer<float>).MakeByRefType(), typeof(float)],
            [environment, weights, 0f]);
        return (ITransformer)Construct(typeof(RegressionPredictionTransformer<LinearRegressionModelParameters>),
            [typeof(IHostEnvironment), typeof(LinearRegressionModelParameters), typeof(DataViewSchema), typeof(string)],
            [environment, model, schema, outputColumn]);
    }

    private static object Construct(Type type, Type[] parameterTypes, object?[] arguments)
    {
        var constructor = type.GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null, parameterTypes, null)
            ?? throw new InvalidOperationException(
                $"ML.DeepExtensions cannot create ML.NET's {type.Name}: ML.NET {typeof(MLContext).Assembly.GetName().Version} no longer has the constructor "
                + $"({string.Join(", ", parameterTypes.Select(t => t.Name))}). This library supports Microsoft.ML 5.0; please report the ML.NET version you use.");
        try
        {
            return constructor.Invoke(arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
