using Microsoft.ML;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Cli;

/// <summary>Loads a model zip for the commands, turning the library's errors into user errors.</summary>
internal static class ModelFile
{
    public static (BatchScorer Scorer, DataViewSchema InputSchema) Open(MLContext context, string path, BatchScorerOptions options)
    {
        BatchScorer scorer;
        DataViewSchema? schema;
        try
        {
            scorer = context.Model.CreateBatchScorer(path, out schema, options);
        }
        catch (FileNotFoundException e)
        {
            throw CliException.Model(e.Message, e);
        }
        catch (InvalidDataException e)
        {
            throw CliException.Model(e.Message, e);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw CliException.Model($"'{path}': {e.Message}", e);
        }

        if (schema is null)
        {
            scorer.Dispose();
            throw CliException.Model($"'{path}' was saved without its input schema (Model.Save with a null schema), so the columns it reads are unknown; save it with the training data's schema.");
        }

        return (scorer, schema);
    }
}
