using Microsoft.ML;
using ML.DeepExtensions.Onnx.Proto;

namespace ML.DeepExtensions.Scoring;

/// <summary>A network in a model's chain.</summary>
/// <param name="Index">Its position in the flattened chain.</param>
/// <param name="PerRow">The graph as stored in the model.</param>
/// <param name="Batched">The same network over a batch.</param>
internal sealed record NetworkStep(int Index, ModelProto PerRow, BatchedGraph Batched);

/// <summary>A model's chain, flattened, with the networks of this library found in it.</summary>
internal sealed class ModelNetworks
{
    private ModelNetworks(ITransformer model, IReadOnlyList<(ITransformer Transformer, string Directory)> leaves, IReadOnlyList<NetworkStep> steps)
    {
        Model = model;
        Leaves = leaves;
        Steps = steps;
    }

    public ITransformer Model { get; }

    public IReadOnlyList<(ITransformer Transformer, string Directory)> Leaves { get; }

    public IReadOnlyList<NetworkStep> Steps { get; }

    /// <summary>Analyses a model; <paramref name="savedModel"/> is its zip when at hand (otherwise it is saved to memory once).</summary>
    /// <exception cref="ArgumentException">The model contains no network of this library.</exception>
    public static ModelNetworks Find(ITransformer model, byte[]? savedModel = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var leaves = SavedModelOnnx.Flatten(model);
        var steps = new List<NetworkStep>();
        foreach (var step in SavedModelOnnx.FindOnnxSteps(model, leaves, savedModel))
        {
            var perRow = BatchedOnnxGraph.Parse(step.OnnxModel);
            if (BatchedOnnxGraph.IsOurs(perRow))
            {
                steps.Add(new NetworkStep(step.Index, perRow, BatchedOnnxGraph.Rewrite(perRow)));
            }
        }

        if (steps.Count == 0)
        {
            throw new ArgumentException(
                "The model contains no network trained by ML.DeepExtensions (no ONNX transformer whose graph carries its metadata), so there is nothing to batch; use model.Transform.",
                nameof(model));
        }

        return new ModelNetworks(model, leaves, steps);
    }
}
