using Microsoft.ML;
using ML.DeepExtensions.Onnx.Proto;

namespace ML.DeepExtensions.Scoring;

/// <summary>A network in a model's chain, and how the batched path scores it.</summary>
/// <param name="Index">Its position in the flattened chain.</param>
/// <param name="PerRow">The graph as stored in the model.</param>
/// <param name="Batched">The same network over a batch, one call per layer for the whole batch (MLPs, CNNs, sequence classifiers, policies); null when its layout does not allow it.</param>
/// <param name="Scanned">Otherwise the per-row graph in a Scan over the batch (several inputs or outputs: the forecaster, the GAN's generator); null when not possible either.</param>
/// <param name="RowByRowReason">Otherwise why the network is left to ML.NET's OnnxTransformer, row by row (variable-length rows: the text classifier).</param>
internal sealed record NetworkStep(int Index, ModelProto PerRow, BatchedGraph? Batched, ScannedGraph? Scanned, string? RowByRowReason)
{
    /// <summary>The batched graph, for what needs one (the deployable export, the CLI's description).</summary>
    /// <exception cref="NotSupportedException">The network has none.</exception>
    public BatchedGraph RequireBatched() => Batched
        ?? throw new NotSupportedException($"The network ({RowByRowReason ?? "several inputs or outputs"}) has no single-input, single-output batched form; a deployable export needs one.");
}

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
                steps.Add(Analyse(step.Index, perRow));
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

    private static NetworkStep Analyse(int index, ModelProto perRow)
    {
        try
        {
            return new NetworkStep(index, perRow, BatchedOnnxGraph.Rewrite(perRow), null, null);
        }
        catch (NotSupportedException)
        {
        }

        try
        {
            return new NetworkStep(index, perRow, null, ScannedOnnxGraph.Wrap(perRow), null);
        }
        catch (NotSupportedException e)
        {
            return new NetworkStep(index, perRow, null, null, e.Message);
        }
    }
}
