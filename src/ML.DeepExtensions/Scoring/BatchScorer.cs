using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// Scores data through a saved model with each network of ML.DeepExtensions evaluated in batches
/// by ONNX Runtime, instead of one ONNX Runtime call per row as ML.NET's OnnxTransformer does.
/// The ML.NET transforms before and after the network in the model's chain run as usual, so
/// <see cref="Transform"/> gives the same columns and values as the model's own
/// <see cref="ITransformer.Transform"/>.
/// </summary>
/// <remarks>
/// <para>
/// Create one with <see cref="BatchScoringCatalogExtensions.CreateBatchScorer(ModelOperationsCatalog, ITransformer, BatchScorerOptions?)"/>.
/// The result of <see cref="Transform"/> is lazy and streams: a cursor holds one batch of rows
/// (<see cref="BatchScorerOptions.BatchSize"/>) at a time, whatever the data's size (two with
/// <see cref="BatchScorerOptions.ReadAhead"/>: the one it serves and the one it reads ahead). ONNX
/// Runtime sessions are created once and shared by all cursors; dispose the scorer to free them.
/// </para>
/// <para>
/// Networks are recognised by the metadata this library's exporter writes into their ONNX graph.
/// Other ONNX transformers in the chain (graphs from elsewhere) are left to ML.NET's
/// OnnxTransformer. <see cref="GetRowToRowMapper"/> (used by <c>PredictionEngine</c>) and saving
/// use the original model: they are row by row anyway, and the saved model is unchanged.
/// </para>
/// <example>
/// <code>
/// var model = mlContext.Model.Load("model.zip", out var inputSchema);
/// using var scorer = mlContext.Model.CreateBatchScorer(model, new BatchScorerOptions { BatchSize = 512 });
/// IDataView scored = scorer.Transform(mlContext.Data.LoadFromTextFile&lt;Input&gt;("big.csv", ',', hasHeader: true));
/// var metrics = mlContext.MulticlassClassification.Evaluate(scored);
/// </code>
/// </example>
/// </remarks>
public sealed class BatchScorer : ITransformer, IDisposable
{
    private readonly ITransformer _model;
    private readonly IReadOnlyList<(ITransformer Transformer, string Directory)> _leaves;
    private readonly Dictionary<int, BatchedSession> _sessions = [];
    private readonly Dictionary<int, ScannedSession> _scanned = [];
    private readonly Dictionary<int, ScorerStage> _stages = [];

    private readonly bool _ownsModel;
    private readonly bool _readAhead;

    internal BatchScorer(ModelNetworks networks, BatchScorerOptions options, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ownsModel = ownsModel;
        options.Validate();
        _readAhead = options.ReadAhead;
        _model = networks.Model;
        _leaves = networks.Leaves;
        Networks = networks;
        try
        {
            foreach (var network in networks.Steps)
            {
                if (network.Batched is not { } graph)
                {
                    if (network.Scanned is { } scanned)
                    {
                        _scanned[network.Index] = new ScannedSession(scanned, options.BatchSize, options.IntraOpThreads);
                    }

                    continue;
                }

                if (ScorerStage.Recognise(_leaves, network.Index, network.Batched) is { } stage)
                {
                    _stages[network.Index] = stage;
                    if (stage.Task == DeployableOnnx.Task.Multiclass)
                    {
                        graph = BatchedOnnxGraph.WithSoftmax(graph);
                    }
                }

                _sessions[network.Index] = new BatchedSession(graph, options.BatchSize, options.SessionThreads);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The model this scorer evaluates.</summary>
    public ITransformer Model => _model;

    /// <summary>The networks found in the model's chain.</summary>
    internal ModelNetworks Networks { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => _model.IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _model.GetOutputSchema(inputSchema);

    /// <summary>The original model's row-to-row mapper (row by row; for <c>PredictionEngine</c>).</summary>
    /// <param name="inputSchema">The input schema.</param>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _model.GetRowToRowMapper(inputSchema);

    /// <summary>
    /// Scores <paramref name="input"/>: lazily, like every ML.NET transform. The networks run in
    /// batches when a cursor reads the network's outputs (or columns computed from them).
    /// </summary>
    /// <param name="input">Data with the model's input schema.</param>
    /// <exception cref="ArgumentException">A network's input column is missing or has the wrong type.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var data = input;
        for (int i = 0; i < _leaves.Count; i++)
        {
            if (_scanned.TryGetValue(i, out var scanned))
            {
                data = new ScannedOnnxDataView(data, scanned, _leaves[i].Transformer.GetOutputSchema(data.Schema));
                continue;
            }

            if (!_sessions.TryGetValue(i, out var session))
            {
                data = _leaves[i].Transformer.Transform(data);
                continue;
            }

            // The general view first: it checks the network's input column with a clear message.
            var raw = new BatchedOnnxDataView(data, session, new VectorDataViewType(NumberDataViewType.Single, (int)session.Graph.OutputWidth), _readAhead);
            if (_stages.TryGetValue(i, out var stage) && stage.Bind(_leaves, i, data.Schema) is { } bound)
            {
                // The scorer stage after the network is computed with it, batch by batch.
                data = new BatchedOnnxDataView(data, session, stage, bound.Schema, bound.SourceOf, _readAhead);
                i += stage.Leaves;
            }
            else
            {
                data = raw;
            }
        }

        return data;
    }

    /// <summary>Saves the original model (batching is a way of scoring, not part of the model).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _model.Save(ctx);

    private bool _disposed;

    /// <summary>
    /// Frees the ONNX Runtime sessions, and a model the scorer loaded from a path (with the temp
    /// copies ML.NET made of its ONNX graphs). Data views returned by <see cref="Transform"/> must
    /// not be read afterwards.
    /// </summary>
    public void Dispose()
    {
        if (_ownsModel && !_disposed)
        {
            MLNet.LoadedModelFiles.DisposeAndDelete(_model);
        }

        _disposed = true;
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }

        foreach (var session in _scanned.Values)
        {
            session.Dispose();
        }

        _sessions.Clear();
        _scanned.Clear();
    }
}

