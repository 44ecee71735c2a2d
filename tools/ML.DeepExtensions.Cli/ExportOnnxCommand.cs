using System.CommandLine;
using Microsoft.ML;
using ML.DeepExtensions.Cli.Output;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Cli;

/// <summary><c>mldx export-onnx MODEL -o model.onnx</c>: the deployable ONNX model (dynamic batch, contract in metadata).</summary>
internal static class ExportOnnxCommand
{
    private static readonly Argument<string> ModelArgument = new("model") { Description = "The model zip." };
    private static readonly Option<string> OutputOption = new("--output", "-o") { Description = "The .onnx file to write.", Required = true };
    private static readonly Option<bool> ForceOption = new("--force", "-f") { Description = "Replace the output if it exists." };

    public static Command Create()
    {
        var command = new Command("export-onnx", "Export the model's network as a deployable ONNX model: dynamic batch dimension N, inputs, outputs, class names and pre-processing in its metadata.")
        {
            ModelArgument, OutputOption, ForceOption,
        };
        command.SetAction(result => Program.Run(() => Run(result)));
        return command;
    }

    private static int Run(ParseResult result)
    {
        string path = result.GetValue(ModelArgument)!;
        string outputPath = result.GetValue(OutputOption)!;
        var context = new MLContext(seed: 0);
        var (scorer, input) = ModelFile.Open(context, path, new BatchScorerOptions { BatchSize = 1, IntraOpThreads = 1 });
        using var _ = scorer;
        using var output = AtomicOutput.Create(outputPath, result.GetValue(ForceOption));
        try
        {
            context.Model.ExportDeployableOnnx(scorer.Model, input, output.Stream);
        }
        catch (NotSupportedException e)
        {
            throw CliException.Model($"'{path}': {e.Message}", e);
        }

        output.Commit();
        Console.Error.WriteLine($"Wrote '{outputPath}': input '{scorer.Networks.Steps[0].RequireBatched().InputName}' [N, {scorer.Networks.Steps[0].RequireBatched().InputWidth}]; see its metadata_props for outputs and class names.");
        return ExitCodes.Success;
    }
}
