using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.MLNet;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>Logged transitions read from an IDataView into memory, checked row by row.</summary>
internal sealed class LoggedTransitions
{
    private LoggedTransitions(int observationSize, int actionCount, List<float[]> observations, List<int> actions, List<float[]> continuousActions, List<float> rewards, List<float[]> next, List<bool> terminated, List<bool> episodeStart)
    {
        ObservationSize = observationSize;
        ActionCount = actionCount;
        Count = observations.Count;
        ActionSize = continuousActions.Count > 0 ? continuousActions[0].Length : 1;
        ContinuousActions = [.. continuousActions.SelectMany(a => a)];
        Observations = [.. observations.SelectMany(o => o)];
        NextObservations = [.. next.SelectMany(o => o)];
        Actions = [.. actions];
        Rewards = [.. rewards];
        Terminated = [.. terminated.Select(t => t ? 1f : 0f)];
        EpisodeStarts = [.. episodeStart];
    }

    public int ObservationSize { get; }

    public int ActionCount { get; }

    public int Count { get; }

    public float[] Observations { get; }

    public float[] NextObservations { get; }

    /// <summary>The discrete actions (empty for continuous logs).</summary>
    public int[] Actions { get; }

    /// <summary>The values per continuous action (1 for discrete logs).</summary>
    public int ActionSize { get; }

    /// <summary>The continuous actions, row-major (empty for discrete logs).</summary>
    public float[] ContinuousActions { get; }

    public float[] Rewards { get; }

    public float[] Terminated { get; }

    /// <summary>Whether each row starts an episode: the first row, and every row after a terminated or truncated one.</summary>
    public bool[] EpisodeStarts { get; }

    public ReplayBuffer ToReplayBuffer()
    {
        var buffer = new ReplayBuffer(Count, ObservationSize);
        for (int i = 0; i < Count; i++)
        {
            buffer.Add(Observations.AsSpan(i * ObservationSize, ObservationSize), [Actions[i]], Rewards[i], NextObservations.AsSpan(i * ObservationSize, ObservationSize), Terminated[i] == 1f);
        }

        return buffer;
    }

    /// <summary>Reads the logs; with <paramref name="continuous"/> the action column is a vector of that space's width, each value within its bounds.</summary>
    /// <exception cref="ArgumentException">A column is missing or of the wrong type, a next observation or an action has the wrong width, a value is NaN, or an action is out of range; the message names the column and the row.</exception>
    public static LoggedTransitions Read(IDataView logs, OfflineOptions options, BoxSpace? continuous = null)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var schema = logs.Schema;
        var observation = Vector(schema, options.ObservationColumnName, "observation");
        var next = Vector(schema, options.NextObservationColumnName, "next observation");
        int size = ((VectorDataViewType)observation.Type).Size, nextSize = ((VectorDataViewType)next.Type).Size;
        if (nextSize != size)
        {
            throw new ArgumentException(
                $"The next observation column '{next.Name}' has {nextSize} values per row; the observation column '{observation.Name}' has {size}. They must describe the same observation space.",
                nameof(logs));
        }

        var action = SchemaChecks.Find(schema, options.ActionColumnName, "action");
        var reward = SchemaChecks.Find(schema, options.RewardColumnName, "reward");
        var terminated = SchemaChecks.Find(schema, options.TerminatedColumnName, "terminated");
        DataViewSchema.Column? truncated = options.TruncatedColumnName is { } truncatedName ? SchemaChecks.Find(schema, truncatedName, "truncated") : null;
        foreach (var flag in new[] { terminated }.Concat(truncated is { } t ? [t] : Array.Empty<DataViewSchema.Column>()))
        {
            if (flag.Type is not BooleanDataViewType)
            {
                throw new ArgumentException($"The column '{flag.Name}' is {flag.Type}; a termination flag must be Boolean.", nameof(logs));
            }
        }

        if (reward.Type != NumberDataViewType.Single && reward.Type != NumberDataViewType.Double)
        {
            throw new ArgumentException($"The reward column '{reward.Name}' is {reward.Type}; it must be Single or Double.", nameof(logs));
        }

        int? keyCount = action.Type is KeyDataViewType key ? (int)key.Count : null;
        if (continuous is not null)
        {
            if (action.Type is not VectorDataViewType { IsKnownSize: true } actionVector || actionVector.ItemType != NumberDataViewType.Single)
            {
                throw new ArgumentException($"The action column '{action.Name}' is {action.Type}; continuous actions must be a known-size vector of Single.", nameof(logs));
            }

            if (actionVector.Size != continuous.Size)
            {
                throw new ArgumentException($"The action column '{action.Name}' has {actionVector.Size} values per row; the action space {continuous} has {continuous.Size}.", nameof(logs));
            }
        }
        else if (keyCount is null && action.Type != NumberDataViewType.Int32 && action.Type != NumberDataViewType.Int64 && action.Type != NumberDataViewType.Single)
        {
            throw new ArgumentException($"The action column '{action.Name}' is {action.Type}; it must be a key, or an Int32, Int64 or Single action index.", nameof(logs));
        }

        var observations = new List<float[]>();
        var nexts = new List<float[]>();
        var actions = new List<int>();
        var continuousActions = new List<float[]>();
        var rewards = new List<float>();
        var terminals = new List<bool>();
        var starts = new List<bool>();
        var columns = new List<DataViewSchema.Column> { observation, next, action, reward, terminated };
        if (truncated is { } truncatedColumn)
        {
            columns.Add(truncatedColumn);
        }

        using (var cursor = logs.GetRowCursor(columns))
        {
            var getObservation = cursor.GetGetter<VBuffer<float>>(observation);
            var getNext = cursor.GetGetter<VBuffer<float>>(next);
            Func<double> getAction = continuous is null ? ActionGetter(cursor, action) : () => 0;
            var getVector = continuous is null ? null : cursor.GetGetter<VBuffer<float>>(action);
            Func<double> getReward = reward.Type == NumberDataViewType.Single ? Getter<float, double>(cursor, reward, v => v) : Getter<double, double>(cursor, reward, v => v);
            var getTerminated = Getter<bool, bool>(cursor, terminated, v => v);
            Func<bool> getTruncated = truncated is { } tc ? Getter<bool, bool>(cursor, tc, v => v) : () => false;
            VBuffer<float> buffer = default;
            bool previousDone = true;
            long row = 0;
            while (cursor.MoveNext())
            {
                getObservation(ref buffer);
                float[] o = Dense(buffer, observation.Name, row);
                getNext(ref buffer);
                float[] n = Dense(buffer, next.Name, row);
                double a = getAction();
                double r = getReward();
                if (!double.IsFinite(r))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Row {row}: the reward column '{reward.Name}' holds {r}; rewards must be finite."), nameof(logs));
                }

                if (getVector is not null)
                {
                    getVector(ref buffer);
                    continuousActions.Add(ContinuousAction(buffer, action.Name, continuous!, row));
                }
                else if (double.IsNaN(a) || a != Math.Floor(a) || a < 0 || (keyCount is int k && a >= k) || (options.ActionCount is int c && a >= c))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"Row {row}: the action column '{action.Name}' holds {(keyCount is null ? a : a + 1)}{(keyCount is null ? "" : " (key value)")}, which is not an action from 0 to {(keyCount ?? options.ActionCount ?? int.MaxValue) - 1}{(keyCount is null ? "" : " (a missing key is not an action)")}."),
                        nameof(logs));
                }

                bool done = getTerminated(), cut = getTruncated();
                observations.Add(o);
                nexts.Add(n);
                if (continuous is null)
                {
                    actions.Add((int)a);
                }

                rewards.Add((float)r);
                terminals.Add(done);
                starts.Add(previousDone);
                previousDone = done || cut;
                row++;
            }
        }

        if (observations.Count == 0)
        {
            throw new ArgumentException("The logs hold no rows.", nameof(logs));
        }

        if (continuous is not null)
        {
            return new LoggedTransitions(size, 0, observations, [], continuousActions, rewards, nexts, terminals, starts);
        }

        int count = keyCount ?? options.ActionCount ?? (actions.Max() + 1);
        if (count < 2)
        {
            throw new ArgumentException($"The logs hold a single action ({count}); set ActionCount to the number of actions of the environment.", nameof(logs));
        }

        return new LoggedTransitions(size, count, observations, actions, [], rewards, nexts, terminals, starts);
    }

    private static DataViewSchema.Column Vector(DataViewSchema schema, string name, string role)
    {
        var column = SchemaChecks.Find(schema, name, role);
        if (column.Type is VectorDataViewType { IsKnownSize: true } vector && vector.ItemType == NumberDataViewType.Single)
        {
            return column;
        }

        throw new ArgumentException($"The {role} column '{name}' is {column.Type}; it must be a known-size vector of Single (Concatenate the observation columns, ConvertType to Single).", nameof(schema));
    }

    private static float[] Dense(VBuffer<float> buffer, string column, long row)
    {
        float[] values = buffer.DenseValues().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Row {row}: the column '{column}' holds {values[i]} at index {i}; observations must be finite."), nameof(column));
            }
        }

        return values;
    }

    private static float[] ContinuousAction(VBuffer<float> buffer, string column, BoxSpace space, long row)
    {
        float[] values = buffer.DenseValues().ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]) || values[i] < space.Low[i] || values[i] > space.High[i])
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Row {row}: the action column '{column}' holds {values[i]} at index {i}, which is not a finite value within the action space's bounds [{space.Low[i]}, {space.High[i]}]."), nameof(column));
            }
        }

        return values;
    }

    private static Func<double> ActionGetter(DataViewRowCursor cursor, DataViewSchema.Column column) => column.Type switch
    {
        KeyDataViewType => Getter<uint, double>(cursor, column, v => v == 0 ? -1 : v - 1.0),
        _ when column.Type == NumberDataViewType.Int32 => Getter<int, double>(cursor, column, v => v),
        _ when column.Type == NumberDataViewType.Int64 => Getter<long, double>(cursor, column, v => v),
        _ => Getter<float, double>(cursor, column, v => v),
    };

    private static Func<TOut> Getter<TIn, TOut>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<TIn, TOut> convert)
    {
        var getter = cursor.GetGetter<TIn>(column);
        TIn value = default!;
        return () =>
        {
            getter(ref value);
            return convert(value);
        };
    }
}
