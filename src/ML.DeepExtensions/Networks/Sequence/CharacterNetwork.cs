using ML.DeepExtensions.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks.Sequence;

/// <summary>
/// The character language model's network: an embedding of character ids, a stack of recurrent
/// layers that carries its state from call to call (truncated backpropagation through time), and a
/// linear layer to one logit per vocabulary entry.
/// </summary>
internal sealed class CharacterNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly nn.Module rnn;
    private readonly Dropout dropout;
    private readonly Linear output;

    public CharacterNetwork(RecurrentCell cell, int vocabulary, int embeddingDimensions, int hiddenUnits, int layers, double dropoutRate)
        : base("character_network")
    {
        Cell = cell;
        Vocabulary = vocabulary;
        HiddenUnits = hiddenUnits;
        LayerCount = layers;
        embedding = nn.Embedding(vocabulary, embeddingDimensions);
        // Dropout between stacked layers only exists with more than one.
        double between = layers > 1 ? dropoutRate : 0;
        rnn = cell switch
        {
            RecurrentCell.Lstm => nn.LSTM(embeddingDimensions, hiddenUnits, layers, batchFirst: true, dropout: between),
            RecurrentCell.Gru => nn.GRU(embeddingDimensions, hiddenUnits, layers, batchFirst: true, dropout: between),
            _ => nn.RNN(embeddingDimensions, hiddenUnits, layers, nn.NonLinearities.Tanh, batchFirst: true, dropout: between),
        };
        dropout = nn.Dropout(dropoutRate);
        output = nn.Linear(hiddenUnits, vocabulary);
        RegisterComponents();
    }

    public RecurrentCell Cell { get; }

    public int Vocabulary { get; }

    public int HiddenUnits { get; }

    public int LayerCount { get; }

    /// <summary>Whether the state has a cell part besides the hidden state (LSTM).</summary>
    public bool HasCellState => Cell == RecurrentCell.Lstm;

    /// <summary>Logits [N, T, V] of a full batch of ids [N, T] from the zero state.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var embedded = embedding.forward(input.to(ScalarType.Int64));
        Tensor steps = rnn switch
        {
            LSTM lstm => lstm.call(embedded).Item1,
            GRU gru => gru.call(embedded).Item1,
            _ => ((RNN)rnn).call(embedded).Item1,
        };
        return output.forward(dropout.forward(steps)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs ids [N, T] with per-row lengths (non-increasing, each at least 1) from <paramref name="state"/>
    /// (null for zeros). Returns the logits of the valid steps in packed order ([sum of lengths, V], the
    /// order of <c>pack_padded_sequence(...).data</c>) and each row's state after its last valid step.
    /// </summary>
    public (Tensor Logits, RecurrentState State) Forward(Tensor ids, Tensor lengths, RecurrentState? state)
    {
        using var scope = torch.NewDisposeScope();
        var embedded = embedding.forward(ids.to(ScalarType.Int64));
        var packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first: true, enforce_sorted: true);
        nn.utils.rnn.PackedSequence outputs;
        RecurrentState next;
        switch (rnn)
        {
            case LSTM lstm:
                var (lstmOut, h, c) = state is null ? lstm.call(packed) : lstm.call(packed, (state.Hidden, state.Cell!));
                (outputs, next) = (lstmOut, new RecurrentState(h, c));
                break;
            case GRU gru:
                var (gruOut, gh) = state is null ? gru.call(packed) : gru.call(packed, state.Hidden);
                (outputs, next) = (gruOut, new RecurrentState(gh, null));
                break;
            default:
                var (rnnOut, rh) = state is null ? ((RNN)rnn).call(packed) : ((RNN)rnn).call(packed, state.Hidden);
                (outputs, next) = (rnnOut, new RecurrentState(rh, null));
                break;
        }

        var logits = output.forward(dropout.forward(outputs.data));
        next.MoveToOuterDisposeScope();
        return (logits.MoveToOuterDisposeScope(), next);
    }

    /// <summary>Targets [N, T] in the packed order of <see cref="Forward"/>'s logits.</summary>
    public static Tensor Packed(Tensor values, Tensor lengths)
    {
        using var scope = torch.NewDisposeScope();
        return nn.utils.rnn.pack_padded_sequence(values.unsqueeze(2), lengths.cpu(), batch_first: true, enforce_sorted: true).data.squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>The recurrent module's parameter named like PyTorch's, e.g. <c>weight_ih_l0</c>.</summary>
    internal Tensor Parameter(string name) => rnn.named_parameters().First(p => p.name == name).parameter;

    internal Tensor EmbeddingWeight => embedding.weight!;

    internal Linear Output => output;
}

/// <summary>A recurrent stack's state: hidden [layers, N, H] and, for an LSTM, the cell [layers, N, H].</summary>
internal sealed record RecurrentState(Tensor Hidden, Tensor? Cell)
{
    /// <summary>The state of the first <paramref name="rows"/> rows, cut off from the graph (truncated backpropagation).</summary>
    public RecurrentState Detached(long rows) => new(Hidden.detach().narrow(1, 0, rows), Cell?.detach().narrow(1, 0, rows));

    public RecurrentState MoveToOuterDisposeScope()
    {
        Hidden.MoveToOuterDisposeScope();
        Cell?.MoveToOuterDisposeScope();
        return this;
    }
}

/// <summary>
/// Exports a <see cref="CharacterNetwork"/> to two ONNX graphs of the same weights: the per-step graph
/// (a character id and the state in, logits and the new state out) that generation runs, and the
/// context graph (the characters of a context as ML.NET character keys in, the next character's logits out)
/// that ML.NET's OnnxTransformer scores.
/// </summary>
internal static class CharacterNetworkExport
{
    public const string CharacterIdInput = "CharacterId";
    public const string HiddenInput = "Hidden";
    public const string CellInput = "Cell";
    public const string LogitsOutput = "Logits";
    public const string HiddenOutput = "HiddenOut";
    public const string CellOutput = "CellOut";

    /// <summary>The per-step graph: CharacterId int64 [N], Hidden (and Cell) float [layers, N, H] → Logits [N, V], HiddenOut (and CellOut).</summary>
    public static OnnxGraphBuilder StepGraph(CharacterNetwork network)
    {
        using var scope = torch.NewDisposeScope();
        var graph = new OnnxGraphBuilder("CharacterLanguageModelStep");
        int layers = network.LayerCount, hidden = network.HiddenUnits;
        graph.AddInput(CharacterIdInput, OnnxElementType.Int64, "N");
        graph.AddInput(HiddenInput, OnnxElementType.Float, layers, "N", hidden);
        if (network.HasCellState)
        {
            graph.AddInput(CellInput, OnnxElementType.Float, layers, "N", hidden);
        }

        var embedded = graph.AddNode("Gather", [graph.AddInitializer("embedding", network.EmbeddingWeight), CharacterIdInput], [OnnxAttribute.Int("axis", 0)], "embedded");
        var steps = graph.AddNode("Unsqueeze", [embedded, graph.AddInitializer("axis0", [0L], [1])], nameHint: "one_step");
        var hiddenParts = SplitLayers(graph, HiddenInput, layers, "hidden");
        var cellParts = network.HasCellState ? SplitLayers(graph, CellInput, layers, "cell") : null;
        var (top, hiddenOut, cellOut) = Layers(graph, network, steps, hiddenParts, cellParts);
        // Y [1, N, H] of the last layer → [N, H] → logits.
        var last = graph.AddNode("Squeeze", [top, graph.AddInitializer("axis0_squeeze", [0L], [1])], nameHint: "top");
        var logits = Linear(graph, network, last);
        graph.AddOutput(logits, LogitsOutput, OnnxElementType.Float, "N", network.Vocabulary);
        graph.AddOutput(hiddenOut, HiddenOutput, OnnxElementType.Float, layers, "N", hidden);
        if (cellOut is not null)
        {
            graph.AddOutput(cellOut, CellOutput, OnnxElementType.Float, layers, "N", hidden);
        }

        return graph;
    }

    /// <summary>
    /// The context graph for ML.NET: <paramref name="keysInput"/> UInt32 [1, T] (ML.NET character keys, the
    /// character code, 0 for NUL) → <paramref name="logitsOutput"/> float [V], the logits of the character
    /// after the context, run from the zero state with the end-of-text id first.
    /// </summary>
    public static OnnxGraphBuilder ContextGraph(CharacterNetwork network, long[] codeToId, long endOfText, string keysInput, string logitsOutput)
    {
        using var scope = torch.NewDisposeScope();
        var graph = new OnnxGraphBuilder("CharacterLanguageModel");
        graph.AddInput(keysInput, OnnxElementType.UInt32, 1, "T");
        var codes = graph.AddNode("Cast", [keysInput], [OnnxAttribute.Int("to", (long)OnnxElementType.Int64)], "codes");
        // Codes past the table (characters the vocabulary never saw) read its last entry, the unknown id.
        var clipped = graph.AddNode("Min", [codes, graph.AddInitializer("last_code", [(long)codeToId.Length - 1], [])], nameHint: "clipped");
        var ids = graph.AddNode("Gather", [graph.AddInitializer("code_to_id", codeToId, [codeToId.Length]), clipped], [OnnxAttribute.Int("axis", 0)], "ids");
        var withStart = graph.AddNode("Concat", [graph.AddInitializer("start", [endOfText], [1, 1]), ids], [OnnxAttribute.Int("axis", 1)], "with_start");
        var embedded = graph.AddNode("Gather", [graph.AddInitializer("embedding", network.EmbeddingWeight), withStart], [OnnxAttribute.Int("axis", 0)], "embedded");
        var steps = graph.AddNode("Transpose", [embedded], [OnnxAttribute.Ints("perm", [1, 0, 2])], "time_major");
        var (_, hiddenOut, _) = Layers(graph, network, steps, null, null);
        // The last layer's final state [1, 1, H] → [H] → logits [V].
        var lastLayer = graph.AddNode("Gather", [hiddenOut, graph.AddInitializer("last_layer", [(long)network.LayerCount - 1], [])], [OnnxAttribute.Int("axis", 0)], "last_layer_state");
        var flat = graph.AddNode("Reshape", [lastLayer, graph.AddInitializer("shape_1h", [1L, network.HiddenUnits], [2])], nameHint: "final_state");
        var logits = graph.AddNode("Reshape", [Linear(graph, network, flat), graph.AddInitializer("shape_v", [(long)network.Vocabulary], [1])], nameHint: "logits");
        graph.AddOutput(logits, logitsOutput, OnnxElementType.Float, network.Vocabulary);
        return graph;
    }

    private static string[] SplitLayers(OnnxGraphBuilder graph, string state, int layers, string name) =>
        layers == 1 ? [state] : [.. graph.AddNodeWithOutputs("Split", [state], layers, [OnnxAttribute.Int("axis", 0)], $"{name}_layer")];

    /// <summary>One ONNX recurrent node per layer over time-major steps [T, N, F]; returns the top layer's Y [T, N, H] and the stacked final states [layers, N, H].</summary>
    private static (string Top, string Hidden, string? Cell) Layers(OnnxGraphBuilder graph, CharacterNetwork network, string steps, string[]? hidden, string[]? cell)
    {
        var (op, gates, order) = network.Cell switch
        {
            // PyTorch i,f,g,o → ONNX i,o,f,c; PyTorch GRU r,z,n → ONNX z,r,h.
            RecurrentCell.Lstm => ("LSTM", 4, new[] { 0, 3, 1, 2 }),
            RecurrentCell.Gru => ("GRU", 3, new[] { 1, 0, 2 }),
            _ => ("RNN", 1, new[] { 0 }),
        };
        var hiddenStates = new List<string>();
        var cellStates = new List<string>();
        var squeezeAxis = graph.AddInitializer("axis1_squeeze", [1L], [1]);
        for (int layer = 0; layer < network.LayerCount; layer++)
        {
            var w = graph.AddInitializer($"W_l{layer}", Reorder(network.Parameter($"weight_ih_l{layer}"), gates, order).unsqueeze(0));
            var r = graph.AddInitializer($"R_l{layer}", Reorder(network.Parameter($"weight_hh_l{layer}"), gates, order).unsqueeze(0));
            var b = graph.AddInitializer($"B_l{layer}", torch.cat([
                Reorder(network.Parameter($"bias_ih_l{layer}"), gates, order),
                Reorder(network.Parameter($"bias_hh_l{layer}"), gates, order)]).unsqueeze(0));
            var attributes = new List<OnnxAttribute> { OnnxAttribute.Int("hidden_size", network.HiddenUnits) };
            if (network.Cell == RecurrentCell.Gru)
            {
                attributes.Add(OnnxAttribute.Int("linear_before_reset", 1));
            }

            List<string> inputs = [steps, w, r, b, "", hidden?[layer] ?? ""];
            if (network.Cell == RecurrentCell.Lstm)
            {
                inputs.Add(cell?[layer] ?? "");
            }

            var outputs = graph.AddNodeWithOutputs(op, inputs, network.Cell == RecurrentCell.Lstm ? 3 : 2, attributes, $"{op.ToLowerInvariant()}_l{layer}");
            // Y [T, 1, N, H] (one direction) → [T, N, H], the next layer's input.
            steps = graph.AddNode("Squeeze", [outputs[0], squeezeAxis], nameHint: $"y_l{layer}");
            hiddenStates.Add(outputs[1]);
            if (network.Cell == RecurrentCell.Lstm)
            {
                cellStates.Add(outputs[2]);
            }
        }

        string Stack(List<string> parts, string name) => parts.Count == 1 ? parts[0] : graph.AddNode("Concat", parts, [OnnxAttribute.Int("axis", 0)], name);
        return (steps, Stack(hiddenStates, "hidden_out"), cellStates.Count > 0 ? Stack(cellStates, "cell_out") : null);
    }

    private static string Linear(OnnxGraphBuilder graph, CharacterNetwork network, string input) =>
        graph.AddNode("Gemm", [input, graph.AddInitializer("output_weight", network.Output.weight!), graph.AddInitializer("output_bias", network.Output.bias!)],
            [OnnxAttribute.Int("transB", 1)], "output");

    private static Tensor Reorder(Tensor parameter, int gates, int[] order)
    {
        var chunks = parameter.detach().chunk(gates, 0);
        return torch.cat(order.Select(i => chunks[i]).ToArray(), 0);
    }
}
