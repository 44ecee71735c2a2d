using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Cli.Input;
using ML.DeepExtensions.Onnx.Proto;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Cli;

/// <summary><c>mldx inspect MODEL</c>: the model's input and output schema, its chain, and each network's layers and sizes.</summary>
internal static class InspectCommand
{
    private static readonly Argument<string> ModelArgument = new("model") { Description = "The model zip." };

    public static Command Create()
    {
        var command = new Command("inspect", "Show a model's input and output columns, its transformers, and its networks' layers and sizes.") { ModelArgument };
        command.SetAction(result => Program.Run(() => Run(result)));
        return command;
    }

    private static int Run(ParseResult result)
    {
        string path = result.GetValue(ModelArgument)!;
        var context = new MLContext(seed: 0);
        var (scorer, input) = ModelFile.Open(context, path, new BatchScorerOptions { BatchSize = 1, IntraOpThreads = 1 });
        using var _ = scorer;
        var output = Console.Out;
        var required = InputPlan.RequiredColumns(scorer.Model, input).Select(c => c.Name).ToHashSet();
        output.WriteLine($"Model: {path}");
        output.WriteLine();
        output.WriteLine("Input columns (as saved with the model):");
        foreach (var column in input.Where(c => !c.IsHidden))
        {
            output.WriteLine($"  {column.Name,-24} {column.Type,-28} {(required.Contains(column.Name) ? "read when scoring" : "not needed for scoring")}");
        }

        var scored = scorer.Model.GetOutputSchema(input);
        output.WriteLine();
        output.WriteLine("Output columns (added by the model):");
        foreach (var column in scored.Where(c => !c.IsHidden && !Equals(input.GetColumnOrNull(c.Name)?.Type, c.Type)))
        {
            string classes = column.Type is KeyDataViewType && ClassNames(column) is { } names ? $"  classes: {string.Join(", ", names)}" : "";
            output.WriteLine($"  {column.Name,-24} {column.Type}{classes}");
        }

        output.WriteLine();
        output.WriteLine("Transformers (nested chains flattened):");
        var networks = scorer.Networks;
        for (int i = 0; i < networks.Leaves.Count; i++)
        {
            var type = networks.Leaves[i].Transformer.GetType();
            string name = type.IsGenericType ? type.Name[..type.Name.IndexOf('`')] : type.Name;
            string note = networks.Steps.FirstOrDefault(s => s.Index == i) is { } step ? $"  network: {Component(step.PerRow)}" : "";
            output.WriteLine($"  {i,3}  {name}{note}");
        }

        foreach (var step in networks.Steps)
        {
            Describe(output, step);
        }

        return ExitCodes.Success;
    }

    private static void Describe(TextWriter output, NetworkStep step)
    {
        var model = step.PerRow;
        output.WriteLine();
        output.WriteLine($"Network {Component(model)} (ONNX opset {model.OpsetImport.FirstOrDefault()?.Version}, producer {model.ProducerName} {model.ProducerVersion}):");
        if (step.Batched is { } graph)
        {
            output.WriteLine($"  input  '{graph.InputName}'  {graph.InputWidth} values per row, seen by the network as [{string.Join(", ", graph.RowShape)}]");
            output.WriteLine($"  output '{graph.OutputName}'  {graph.OutputWidth} values per row");
            output.WriteLine("  scored in batches");
        }
        else if (step.Scanned is { } scanned)
        {
            foreach (var input in scanned.Inputs)
            {
                output.WriteLine($"  input  '{input.Name}'  [{string.Join(", ", input.Shape)}] {(input.IsKey ? "UInt32 key" : "Single")} values per row");
            }

            foreach (var o in scanned.Outputs)
            {
                output.WriteLine($"  output '{o.Name}'  [{string.Join(", ", o.Shape)}] Single values per row");
            }

            output.WriteLine("  scored in batches, the network running once per row inside one ONNX Runtime call");
        }
        else
        {
            output.WriteLine($"  scored row by row by ML.NET's OnnxTransformer: {step.RowByRowReason}");
        }

        output.WriteLine("  layers:");
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        long total = 0;
        int n = 0;
        foreach (var node in model.Graph.Node)
        {
            var weights = node.Input.Where(initializers.ContainsKey).Select(name => initializers[name])
                .Where(t => t.DataType is (int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Double).ToList();
            long parameters = weights.Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
            total += parameters;
            string shapes = weights.Count == 0 ? "" : "  " + string.Join(" + ", weights.Select(t => "[" + string.Join("x", t.Dims) + "]"));
            string count = parameters == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"  {parameters:N0} parameters");
            output.WriteLine($"    {++n,3}  {node.OpType,-20} {node.Name}{shapes}{count}");
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  total: {total:N0} parameters"));
    }

    private static string Component(ModelProto model) =>
        model.MetadataProps.FirstOrDefault(p => p.Key == BatchedOnnxGraph.ComponentKey)?.Value ?? "?";

    private static string[]? ClassNames(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is not VectorDataViewType { ItemType: TextDataViewType })
        {
            return null;
        }

        VBuffer<ReadOnlyMemory<char>> values = default;
        column.Annotations.GetValue("KeyValues", ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }
}
