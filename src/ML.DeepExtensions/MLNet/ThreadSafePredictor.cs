using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// Single-row prediction from any thread with one model: one ML.NET <see cref="PredictionEngine{TSrc, TDst}"/>
/// per thread, none of which owns the model, so disposing this object (or an engine) never disposes
/// the model. Create it with <c>mlContext.Model.CreateThreadSafePredictorCreate it with <see cref="ThreadSafePredictionExtensions.CreateThreadSafePredictor{TSrc, TDst}"/>.lt;TSrc, TDstCreate it with <see cref="ThreadSafePredictionExtensions.CreateThreadSafePredictor{TSrc, TDst}"/>.gt;(model, inputSchema)</c> (<see cref="ThreadSafePredictionExtensions"/>).
/// </summary>
/// <remarks>
/// <para>
/// Why it exists: ML.NET's <c>CreatePredictionEngine</c> gives an engine that owns the model by
/// default, and disposing it disposes the model's transformers (dotnet/machinelearning#5945). For a
/// model that holds an ONNX Runtime session (every model of this library, and any model loaded with
/// <c>mlContext.Model.Load</c>) this closes the session: every later <c>Predict</c> or
/// <c>Transform</c> on that model fails with a NullReferenceException inside ONNX Runtime, and
/// engines running on other threads at that moment can crash the process. A
/// <see cref="PredictionEngine{TSrc, TDst}"/> is also not thread-safe.
/// </para>
/// <para>
/// Before each prediction the input's vector members are checked against the sizes the model
/// expects (from the trained model, the input schema passed at creation, or the input class's
/// <c>[VectorType]</c> attributes): a wrong length is an <see cref="ArgumentException"/> naming the
/// column, instead of ONNX Runtime's "Length of memory (3) must match product of dimensions (5)".
/// An input class whose vector has no declared size gets the size the model expects.
/// </para>
/// <para>
/// Dispose it when the model is retired; do not call <see cref="Predict"/> concurrently with
/// <see cref="Dispose"/>. The model itself stays usable after disposal.
/// </para>
/// </remarks>
/// <typeparam name="TSrc">The input class.</typeparam>
/// <typeparam name="TDst">The output class.</typeparam>
/// <example>
/// <code>
/// var model = mlContext.Model.Load("model.zip", out var inputSchema);
/// using var predictor = mlContext.Model.CreateThreadSafePredictor&lt;ModelInput, ModelOutput&gt;(model, inputSchema);
/// Parallel.For(0, 1000, i => predictor.Predict(inputs[i]));
/// </code>
/// </example>
public sealed class ThreadSafePredictor<TSrc, TDst> : IDisposable
    where TSrc : class
    where TDst : class, new()
{
    private readonly ThreadLocal<PredictionEngine<TSrc, TDst>> _engines;
    private readonly VectorCheck[] _checks;
    private volatile bool _disposed;

    internal ThreadSafePredictor(ModelOperationsCatalog catalog, ITransformer model, DataViewSchema? inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        var expected = ExpectedVectorSizes(model, inputSchema);
        var definition = SchemaDefinition.Create(typeof(TSrc), SchemaDefinition.Direction.Read);
        var checks = new List<VectorCheck>();
        foreach (var column in definition)
        {
            MemberInfo? member = typeof(TSrc).GetProperty(column.MemberName) ?? (MemberInfo?)typeof(TSrc).GetField(column.MemberName);
            if (column.ColumnType is not VectorDataViewType vector || member is null)
            {
                continue;
            }

            long size = vector.Size;
            if (expected.TryGetValue(column.ColumnName, out var wanted) && wanted.ItemType == vector.ItemType)
            {
                if (vector.IsKnownSize && vector.Size != wanted.Size)
                {
                    throw new ArgumentException(
                        $"The input class {typeof(TSrc).Name} declares column '{column.ColumnName}' as {vector}, but the model expects a vector of {wanted.Size}. "
                        + $"Fix its [VectorType] attribute.", nameof(model));
                }

                size = wanted.Size;
                column.ColumnType = new VectorDataViewType(vector.ItemType, wanted.Size);
            }

            if (size > 0)
            {
                checks.Add(new VectorCheck(column.ColumnName, member, size));
            }
        }

        _checks = [.. checks];
        var options = new PredictionEngineOptions { OwnsTransformer = false, InputSchemaDefinition = definition };
        _engines = new ThreadLocal<PredictionEngine<TSrc, TDst>>(
            () => catalog.CreatePredictionEngine<TSrc, TDst>(model, options), trackAllValues: true);
        // Schema problems surface here, on the creating thread, rather than at the first Predict.
        _ = _engines.Value;
    }

    /// <summary>Predicts one row, on the calling thread's engine.</summary>
    /// <param name="example">The input row.</param>
    /// <returns>A new output object.</returns>
    /// <exception cref="ArgumentException">A vector member is null or its length is not the size the model expects; the message names the column.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public TDst Predict(TSrc example)
    {
        ArgumentNullException.ThrowIfNull(example);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var check in _checks)
        {
            check.Verify(example);
        }

        return _engines.Value!.Predict(example);
    }

    /// <summary>Disposes every thread's engine. The model is not disposed and stays usable.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var engine in _engines.Values)
        {
            engine.Dispose();
        }

        _engines.Dispose();
    }

    /// <summary>The known-size vector columns the model reads, by name: from the given input schema, then the trained network.</summary>
    private static Dictionary<string, VectorDataViewType> ExpectedVectorSizes(ITransformer model, DataViewSchema? inputSchema)
    {
        var sizes = new Dictionary<string, VectorDataViewType>(StringComparer.Ordinal);
        if (inputSchema is not null)
        {
            foreach (var column in inputSchema)
            {
                if (!column.IsHidden && column.Type is VectorDataViewType { IsKnownSize: true } vector)
                {
                    sizes[column.Name] = vector;
                }
            }
        }

        // The network's own input, when it reads the raw input (the model itself, or first in a chain).
        var first = model is TransformerChain<ITransformer> chain ? chain.FirstOrDefault() : model;
        if (first is NeuralNetworkTransformer network)
        {
            sizes[network.FeatureColumnName] = new VectorDataViewType(NumberDataViewType.Single, (int)network.FeatureSize);
        }

        return sizes;
    }

    private sealed class VectorCheck(string column, MemberInfo member, long size)
    {
        private readonly Func<object, object?> _read = member switch
        {
            PropertyInfo property => property.GetValue,
            FieldInfo field => field.GetValue,
            _ => _ => null,
        };

        public void Verify(TSrc example)
        {
            var value = _read(example);
            int length = value switch
            {
                Array array => array.Length,
                null => -1,
                _ => (int)size, // VBuffer members: ML.NET checks them itself.
            };
            if (length != size)
            {
                throw new ArgumentException(
                    length < 0
                        ? $"The input's '{column}' ({member.Name}) is null; the model expects a vector of {size} values."
                        : $"The input's '{column}' ({member.Name}) has {length} values; the model expects a vector of {size}.",
                    nameof(example));
            }
        }
    }
}
