// Usage: ML.DeepExtensions.ModelLoadCheck [--dispose-engine | --generator] <model.zip> <features.csv>
//        ML.DeepExtensions.ModelLoadCheck --text <model.zip> <texts.txt>
// With --text each line of the file is one row's raw "Text" column (an empty line is an empty text).
// Each CSV line holds one row's feature values. Prints, per row, every output column the model adds
// as tab-separated text (vectors comma-separated, keys by their key value), one row per line.
// With --dispose-engine it instead shows what ML.NET's default PredictionEngine does to a loaded
// model when disposed (dotnet/machinelearning#5945): one line per later call, "<call>\tok" or
// "<call>\t<exception type>". Run in its own process because the failure may be a native crash.
// With --play-cartpole <model.zip> <starts.csv> it plays CartPole-v1 episodes with a saved policy
// (see CartPolePlay.cs) and prints each episode's return.
// With --generator the model is a GAN generator: each CSV line holds the noise values, then
// optionally ";<class name>" for a conditional generator's key label column; it prints the output
// columns as above.
// With --language-model <step.onnx> <prompts.txt> <length> it generates greedily from each prompt line with a
// character language model's per-step graph (see LanguageModelGenerate.cs), one continuation per line.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length == 4 && args[0] == "--language-model")
{
    return LanguageModelGenerate.Run(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
}

if (args.Length == 3 && args[0] == "--play-cartpole")
{
    return CartPolePlay.Run(args[1], args[2]);
}

bool disposeEngine = args.Length == 3 && args[0] == "--dispose-engine";
bool text = args.Length == 3 && args[0] == "--text";
if (disposeEngine || text)
{
    args = args[1..];
}

if (args.Length == 3 && args[0] == "--generator")
{
    return Generate(args[1], args[2]);
}

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: ML.DeepExtensions.ModelLoadCheck [--dispose-engine] <model.zip> <features.csv>");
    return 2;
}

var context = new MLContext();
var model = context.Model.Load(args[0], out var inputSchema);
if (text)
{
    var texts = File.ReadAllLines(args[1]).Select(line => new TextRow { Text = line }).ToList();
    return Print(model.Transform(context.Data.LoadFromEnumerable(texts)), inputSchema);
}

var featuresType = (VectorDataViewType)inputSchema["Features"].Type;
var rows = File.ReadAllLines(args[1])
    .Where(line => line.Length > 0)
    .Select(line => new FeatureRow { Features = line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray() })
    .ToList();
var definition = SchemaDefinition.Create(typeof(FeatureRow));
definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featuresType.Size);
if (disposeEngine)
{
    return DisposeEngineThenUseTheModel(context, model, definition, rows);
}

return Print(model.Transform(context.Data.LoadFromEnumerable(rows, definition)), inputSchema);

static int Print(IDataView scored, DataViewSchema inputSchema)
{
    var outputs = scored.Schema.Where(c => !c.IsHidden && inputSchema.GetColumnOrNull(c.Name) is null && c.Name != "Tokens").ToList();
    Console.WriteLine(string.Join('\t', outputs.Select(c => c.Name)));
    using var cursor = scored.GetRowCursor(outputs);
    var formatters = outputs.Select(c => Formatter(cursor, c)).ToList();
    while (cursor.MoveNext())
    {
        Console.WriteLine(string.Join('\t', formatters.Select(f => f())));
    }

    return 0;
}

static int DisposeEngineThenUseTheModel(MLContext context, ITransformer model, SchemaDefinition definition, List<FeatureRow> rows)
{
    using (var first = context.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(model, inputSchemaDefinition: definition))
    {
        Report("predict-before-dispose", () => first.Predict(rows[0]));
    }

    Report("predict-on-a-new-engine", () =>
    {
        var second = context.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(model, new PredictionEngineOptions { InputSchemaDefinition = definition, OwnsTransformer = false });
        second.Predict(rows[0]);
    });
    Report("transform", () => _ = model.Transform(context.Data.LoadFromEnumerable(rows, definition)).GetColumn<float[]>("Score").ToList());
    return 0;
}

static int Generate(string modelPath, string rowsPath)
{
    var context = new MLContext();
    var model = context.Model.Load(modelPath, out var inputSchema);
    var noise = inputSchema.Single(c => c.Type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Single);
    var label = inputSchema.Where(c => c.Type is KeyDataViewType).Select(c => (DataViewSchema.Column?)c).FirstOrDefault();
    var rows = File.ReadAllLines(rowsPath).Where(line => line.Length > 0).Select(line =>
    {
        var parts = line.Split(';');
        return new NoiseRow
        {
            Noise = parts[0].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray(),
            ClassName = parts.Length > 1 ? parts[1] : "",
        };
    }).ToList();
    var definition = SchemaDefinition.Create(typeof(NoiseRow));
    definition[nameof(NoiseRow.Noise)].ColumnName = noise.Name;
    definition[nameof(NoiseRow.Noise)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, ((VectorDataViewType)noise.Type).Size);
    var input = context.Data.LoadFromEnumerable(rows, definition);
    if (label is { } key)
    {
        // As a user would: the class names become the key the model was saved with, in its key order.
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        key.GetKeyValues(ref names);
        var keyData = context.Data.LoadFromEnumerable(names.DenseValues().Select(n => new ClassRow { ClassName = n.ToString() }));
        input = context.Transforms.Conversion.MapValueToKey(key.Name, nameof(NoiseRow.ClassName), keyData: keyData).Fit(input).Transform(input);
    }

    input = context.Transforms.DropColumns(nameof(NoiseRow.ClassName)).Fit(input).Transform(input);

    var scored = model.Transform(input);
    var outputs = scored.Schema.Where(c => !c.IsHidden && inputSchema.GetColumnOrNull(c.Name) is null).ToList();
    Console.WriteLine(string.Join('\t', outputs.Select(c => c.Name)));
    using var cursor = scored.GetRowCursor(outputs);
    var formatters = outputs.Select(c => Formatter(cursor, c)).ToList();
    while (cursor.MoveNext())
    {
        Console.WriteLine(string.Join('\t', formatters.Select(f => f())));
    }

    (model as IDisposable)?.Dispose();
    return 0;
}

static void Report(string call, Action action)
{
    string outcome;
    try
    {
        action();
        outcome = "ok";
    }
    catch (Exception error)
    {
        outcome = error.GetType().FullName!;
    }

    Console.WriteLine($"{call}\t{outcome}");
    Console.Out.Flush();
}

static Func<string> Formatter(DataViewRowCursor cursor, DataViewSchema.Column column)
{
    switch (column.Type)
    {
        case VectorDataViewType vector when vector.ItemType == NumberDataViewType.Single:
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            var value = default(VBuffer<float>);
            return () =>
            {
                getter(ref value);
                return string.Join(',', value.DenseValues().Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            };
        }

        case NumberDataViewType when column.Type == NumberDataViewType.Single:
        {
            var getter = cursor.GetGetter<float>(column);
            float value = 0;
            return () =>
            {
                getter(ref value);
                return value.ToString("R", CultureInfo.InvariantCulture);
            };
        }

        case BooleanDataViewType:
        {
            var getter = cursor.GetGetter<bool>(column);
            bool value = false;
            return () =>
            {
                getter(ref value);
                return value ? "true" : "false";
            };
        }

        case KeyDataViewType:
        {
            var getter = cursor.GetGetter<uint>(column);
            var names = default(VBuffer<ReadOnlyMemory<char>>);
            column.GetKeyValues(ref names);
            var text = names.DenseValues().Select(n => n.ToString()).ToArray();
            uint value = 0;
            return () =>
            {
                getter(ref value);
                return value == 0 ? "" : text[value - 1];
            };
        }

        default:
            return () => "?";
    }
}

internal sealed class FeatureRow
{
    public float[] Features { get; set; } = [];
}

internal sealed class NoiseRow
{
    public float[] Noise { get; set; } = [];

    public string ClassName { get; set; } = "";
}

internal sealed class ClassRow
{
    public string ClassName { get; set; } = "";
}

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}

internal sealed class ScoreRow
{
    public float[] Score { get; set; } = [];
}
