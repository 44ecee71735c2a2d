using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Data;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// Creates <see cref="SchemaShape.Column"/> values for estimators' <c>GetOutputSchema</c>. ML.NET
/// keeps the column constructor internal (its own estimators are in the same assemblies), so we
/// call it by reflection, once, and fail loudly (and in a test) if an ML.NET upgrade changes it.
/// </summary>
internal static class SchemaShapes
{
    private static readonly ConstructorInfo ColumnConstructor = typeof(SchemaShape.Column)
        .GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .SingleOrDefault(c => c.GetParameters().Select(p => p.ParameterType).SequenceEqual(
            [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)]))
        ?? throw new InvalidOperationException(
            $"ML.DeepExtensions cannot describe output columns: ML.NET {typeof(SchemaShape).Assembly.GetName().Version} changed SchemaShape.Column's constructor. "
            + "This library supports Microsoft.ML 5.0; please report the ML.NET version you use.");

    public static SchemaShape.Column Scalar(string name, DataViewType type) =>
        Create(name, SchemaShape.Column.VectorKind.Scalar, type, isKey: false, annotations: null);

    public static SchemaShape.Column Vector(string name, DataViewType itemType) =>
        Create(name, SchemaShape.Column.VectorKind.Vector, itemType, isKey: false, annotations: null);

    public static SchemaShape.Column Key(string name, bool withTextKeyValues)
    {
        var annotations = withTextKeyValues
            ? new SchemaShape([Create(KeyValueNames.AnnotationKind, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false, annotations: null)])
            : null;
        return Create(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true, annotations);
    }

    private static SchemaShape.Column Create(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations) =>
        (SchemaShape.Column)ColumnConstructor.Invoke([name, kind, itemType, isKey, annotations]);
}
