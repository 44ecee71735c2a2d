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
        using var options = CreateOptions(intraOpThreads);
        _session = new InferenceSession(graph.ToBytes(), options);
        _inputNames = [graph.InputName];
        _outputNames = graph.SoftmaxName is { } softmax ? [graph.OutputName, softmax] : [graph.OutputName];
    }

    public BatchedGraph Graph { get; }

    /// <summary>The session options every batched session uses: all graph optimisations, and the thread count when given.</summary>
    internal static SessionOptions CreateOptions(int? intraOpThreads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads is { } threads)
        {
            options.IntraOpNumThreads = threads;
        }

        return options;
    }

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
        using var softmax = Graph.SoftmaxName is null ? null : Tensor(buffers.Softmax, rows, Graph.OutputWidth);
        _session.Run(buffers.RunOptions, _inputNames, [input], _outputNames, softmax is null ? [output] : [output, softmax]);
    }

    public void Dispose() => _session.Dispose();

    private static OrtValue Tensor(float[] data, int rows, long width) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(0, checked((int)(rows * width))), [rows, width]);

    /// <summary>One cursor's batch memory: the arrays stay pinned by their tensors until disposed.</summary>
    public sealed class Buffers : IDisposable
    {
        private readonly OrtValue _input;
        private readonly OrtValue _output;
        private readonly OrtValue? _softmax;

        internal Buffers(BatchedSession session)
        {
            Input = new float[checked(session.BatchSize * (int)session.Graph.InputWidth)];
            Output = new float[checked(session.BatchSize * (int)session.Graph.OutputWidth)];
            _input = Tensor(Input, session.BatchSize, session.Graph.InputWidth);
            _output = Tensor(Output, session.BatchSize, session.Graph.OutputWidth);
            FullInput = [_input];
            if (session.Graph.SoftmaxName is not null)
            {
                Softmax = new float[Output.Length];
                _softmax = Tensor(Softmax, session.BatchSize, session.Graph.OutputWidth);
                FullOutput = [_output, _softmax];
            }
            else
            {
                FullOutput = [_output];
            }
        }

        public float[] Input { get; }

        public float[] Output { get; }

        /// <summary>The softmax of <see cref="Output"/> when the graph computes it; otherwise empty.</summary>
        public float[] Softmax { get; } = [];

        internal RunOptions RunOptions { get; } = new();

        internal OrtValue[] FullInput { get; }

        internal OrtValue[] FullOutput { get; }

        public void Dispose()
        {
            _input.Dispose();
            _output.Dispose();
            _softmax?.Dispose();
            RunOptions.Dispose();
        }
    }
}
