using Microsoft.ML.OnnxRuntime;

namespace ML.DeepExtensions.Scoring;

/// <summary>An ONNX Runtime session over a batched graph; thread-safe, shared by every cursor.</summary>
internal sealed class BatchedSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    public BatchedSession(BatchedGraph graph, int batchSize, int? intraOpThreads)
    {
        Graph = graph;
        BatchSize = batchSize;
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads is { } threads)
        {
            options.IntraOpNumThreads = threads;
        }

        _session = new InferenceSession(graph.ToBytes(), options);
        _inputNames = [graph.InputName];
        _outputNames = [graph.OutputName];
    }

    public BatchedGraph Graph { get; }

    public int BatchSize { get; }

    /// <summary>Input and output memory for one batch, owned by one cursor.</summary>
    public Buffers CreateBuffers() => new(this);

    /// <summary>Scores the first <paramref name="rows"/> rows of the buffers' input into their output.</summary>
    public void Run(Buffers buffers, int rows)
    {
        if (rows == BatchSize)
        {
            _session.Run(buffers.RunOptions, _inputNames, buffers.FullInput, _outputNames, buffers.FullOutput);
            return;
        }

        // The last, partial batch: tensors over the front of the same arrays.
        using var input = Tensor(buffers.Input, rows, Graph.InputWidth);
        using var output = Tensor(buffers.Output, rows, Graph.OutputWidth);
        _session.Run(buffers.RunOptions, _inputNames, [input], _outputNames, [output]);
    }

    public void Dispose() => _session.Dispose();

    private static OrtValue Tensor(float[] data, int rows, long width) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(0, checked((int)(rows * width))), [rows, width]);

    /// <summary>One cursor's batch memory: the arrays stay pinned by their tensors until disposed.</summary>
    public sealed class Buffers : IDisposable
    {
        private readonly OrtValue _input;
        private readonly OrtValue _output;

        internal Buffers(BatchedSession session)
        {
            Input = new float[checked(session.BatchSize * (int)session.Graph.InputWidth)];
            Output = new float[checked(session.BatchSize * (int)session.Graph.OutputWidth)];
            _input = Tensor(Input, session.BatchSize, session.Graph.InputWidth);
            _output = Tensor(Output, session.BatchSize, session.Graph.OutputWidth);
            FullInput = [_input];
            FullOutput = [_output];
        }

        public float[] Input { get; }

        public float[] Output { get; }

        internal RunOptions RunOptions { get; } = new();

        internal OrtValue[] FullInput { get; }

        internal OrtValue[] FullOutput { get; }

        public void Dispose()
        {
            _input.Dispose();
            _output.Dispose();
            RunOptions.Dispose();
        }
    }
}
