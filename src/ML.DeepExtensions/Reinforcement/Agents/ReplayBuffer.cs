using System.Globalization;
using ML.DeepExtensions.Training;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// A circular buffer of transitions (SB3's ReplayBuffer with timeout handling); actions are float
/// vectors of <see cref="ActionSize"/> (a discrete action is its index as one float):
/// the next observation of a truncated transition is the episode's final observation and its
/// terminal flag is false, so learners bootstrap through time limits.
/// </summary>
internal sealed class ReplayBuffer : ICheckpointState
{
    private readonly float[] _observations;
    private readonly float[] _nextObservations;
    private readonly float[] _actions;
    private readonly float[] _rewards;
    private readonly float[] _terminated;
    private int _position;

    public ReplayBuffer(int capacity, int observationSize, int actionSize = 1)
    {
        Capacity = capacity;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        _observations = new float[checked(capacity * observationSize)];
        _nextObservations = new float[_observations.Length];
        _actions = new float[checked(capacity * actionSize)];
        _rewards = new float[capacity];
        _terminated = new float[capacity];
    }

    public int Capacity { get; }

    public int ObservationSize { get; }

    public int ActionSize { get; }

    public int Count { get; private set; }

    public string StateKey => "replay_buffer";

    public void Add(ReadOnlySpan<float> observation, ReadOnlySpan<float> action, double reward, ReadOnlySpan<float> nextObservation, bool terminated)
    {
        observation.CopyTo(_observations.AsSpan(_position * ObservationSize, ObservationSize));
        nextObservation.CopyTo(_nextObservations.AsSpan(_position * ObservationSize, ObservationSize));
        action.CopyTo(_actions.AsSpan(_position * ActionSize, ActionSize));
        _rewards[_position] = (float)reward;
        _terminated[_position] = terminated ? 1f : 0f;
        _position = (_position + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>A uniform sample with replacement, as tensors on <paramref name="device"/>: observations, actions [batch, ActionSize], rewards, next observations, terminated (1 or 0).</summary>
    public (Tensor Observations, Tensor Actions, Tensor Rewards, Tensor NextObservations, Tensor Terminated) Sample(int batchSize, Pcg64 random, Device device)
    {
        var observations = new float[batchSize * ObservationSize];
        var next = new float[observations.Length];
        var actions = new float[batchSize * ActionSize];
        var rewards = new float[batchSize];
        var terminated = new float[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            int j = (int)random.NextInt64(Count);
            _observations.AsSpan(j * ObservationSize, ObservationSize).CopyTo(observations.AsSpan(i * ObservationSize));
            _nextObservations.AsSpan(j * ObservationSize, ObservationSize).CopyTo(next.AsSpan(i * ObservationSize));
            _actions.AsSpan(j * ActionSize, ActionSize).CopyTo(actions.AsSpan(i * ActionSize));
            rewards[i] = _rewards[j];
            terminated[i] = _terminated[j];
        }

        return (
            tensor(observations, [batchSize, ObservationSize], device: device),
            tensor(actions, [batchSize, ActionSize], device: device),
            tensor(rewards, [batchSize], device: device),
            tensor(next, [batchSize, ObservationSize], device: device),
            tensor(terminated, [batchSize], device: device));
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(Capacity);
        writer.Write(ObservationSize);
        writer.Write(ActionSize);
        writer.Write(Count);
        writer.Write(_position);
        for (int i = 0; i < Count; i++)
        {
            for (int k = 0; k < ObservationSize; k++)
            {
                writer.Write(_observations[(i * ObservationSize) + k]);
                writer.Write(_nextObservations[(i * ObservationSize) + k]);
            }

            for (int k = 0; k < ActionSize; k++)
            {
                writer.Write(_actions[(i * ActionSize) + k]);
            }

            writer.Write(_rewards[i]);
            writer.Write(_terminated[i]);
        }
    }

    public void LoadState(BinaryReader reader)
    {
        int capacity = reader.ReadInt32(), size = reader.ReadInt32(), actionSize = reader.ReadInt32();
        if (capacity != Capacity || size != ObservationSize || actionSize != ActionSize)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The saved replay buffer holds {capacity} transitions of {size} observation and {actionSize} action values; this run's holds {Capacity} of {ObservationSize} and {ActionSize}."));
        }

        Count = reader.ReadInt32();
        _position = reader.ReadInt32();
        for (int i = 0; i < Count; i++)
        {
            for (int k = 0; k < ObservationSize; k++)
            {
                _observations[(i * ObservationSize) + k] = reader.ReadSingle();
                _nextObservations[(i * ObservationSize) + k] = reader.ReadSingle();
            }

            for (int k = 0; k < ActionSize; k++)
            {
                _actions[(i * ActionSize) + k] = reader.ReadSingle();
            }

            _rewards[i] = reader.ReadSingle();
            _terminated[i] = reader.ReadSingle();
        }
    }
}
