using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Generative;

/// <summary>
/// The Fréchet distance between two sets of feature vectors, each summarised by a Gaussian:
/// <c>|μ₁ − μ₂|² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½)</c>. On the features of an Inception network it is the FID of
/// Heusel et al. (2017); no pretrained network can be downloaded here, so this library computes it on
/// the features of a classifier it trained itself (for example the penultimate layer of an image
/// classifier, through <c>mlContext.Transforms.FeaturizeByNetwork</c>). Such a distance compares
/// generators on the same data and feature network only: it is not comparable with published FID
/// values. Report it beside its floor, the distance between two real samples (train vs test).
/// </summary>
public static class FrechetDistance
{
    /// <summary>The distance between the rows of <paramref name="first"/> and <paramref name="second"/> in <paramref name="featureColumnName"/> (a known-size Single vector).</summary>
    /// <exception cref="ArgumentException">The column is missing or not a known-size Single vector, the sizes differ, or a side has fewer than two rows.</exception>
    public static double Compute(IDataView first, IDataView second, string featureColumnName)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return Compute(Read(first, featureColumnName, nameof(first)), Read(second, featureColumnName, nameof(second)));
    }

    /// <summary>The distance between two sets of equally long feature vectors (computed in double precision).</summary>
    /// <exception cref="ArgumentException">A side has fewer than two rows, or the vectors differ in length.</exception>
    public static double Compute(IReadOnlyList<float[]> first, IReadOnlyList<float[]> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count < 2 || second.Count < 2)
        {
            throw new ArgumentException($"A Fréchet distance needs at least two rows on each side (a covariance); got {first.Count} and {second.Count}.");
        }

        int width = first[0].Length;
        if (first.Concat(second).Any(r => r.Length != width))
        {
            throw new ArgumentException($"Every feature vector must have the same length; the first has {width}.");
        }

        using var scope = NewDisposeScope();
        var (meanA, covarianceA) = Moments(first, width);
        var (meanB, covarianceB) = Moments(second, width);
        var difference = meanA - meanB;
        // Tr((ΣA ΣB)^½) = Σ √λ of the symmetric S ΣB S with S = ΣA^½, which avoids a non-symmetric square root.
        var root = SymmetricSquareRoot(covarianceA);
        var inner = root.matmul(covarianceB).matmul(root);
        inner = (inner + inner.t()) / 2;
        var traceRoot = linalg.eigvalsh(inner).clamp_min(0).sqrt().sum();
        var distance = difference.dot(difference) + covarianceA.trace() + covarianceB.trace() - (2 * traceRoot);
        return Math.Max(0, distance.item<double>());
    }

    private static (Tensor Mean, Tensor Covariance) Moments(IReadOnlyList<float[]> rows, int width)
    {
        var values = new double[rows.Count * width];
        for (int i = 0; i < rows.Count; i++)
        {
            for (int j = 0; j < width; j++)
            {
                values[(i * width) + j] = rows[i][j];
            }
        }

        var matrix = tensor(values, [rows.Count, width], ScalarType.Float64);
        var mean = matrix.mean([0L]);
        var centered = matrix - mean;
        var covariance = centered.t().matmul(centered) / (rows.Count - 1);
        return (mean, covariance);
    }

    private static Tensor SymmetricSquareRoot(Tensor matrix)
    {
        var (eigenvalues, eigenvectors) = linalg.eigh(matrix);
        return eigenvectors.matmul(diag(eigenvalues.clamp_min(0).sqrt())).matmul(eigenvectors.t());
    }

    private static List<float[]> Read(IDataView data, string column, string side)
    {
        var schemaColumn = SchemaChecks.Find(data.Schema, column, "features");
        if (schemaColumn.Type is not VectorDataViewType { IsKnownSize: true } vector || vector.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentException($"The column '{column}' of {side} is {schemaColumn.Type}; a Fréchet distance needs a known-size vector of Single.", side);
        }

        var rows = new List<float[]>();
        using var cursor = data.GetRowCursor([schemaColumn]);
        var getter = cursor.GetGetter<VBuffer<float>>(schemaColumn);
        var buffer = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            rows.Add(buffer.DenseValues().ToArray());
        }

        return rows;
    }
}
