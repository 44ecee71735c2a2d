using System.Globalization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Reinforcement;

/// <summary>
/// One rollout of a vector environment (SB3's RolloutBuffer): step-major arrays of
/// <c>Steps × Copies</c> transitions; the reward of a truncated transition already holds the
/// discounted value of its final observation. Checkpointed, so a run resumes mid-rollout.
/// </summary>
internal sealed class RolloutBuffer : ICheckpointState
{
    public RolloutBuffer(int steps, int copies, int observationSize, int actionSize)
    {
        Steps = steps;
        Copies = copies;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Observations = new float[steps * copies * observationSize];
        Actions = new float[steps * copies * actionSize];
        LogProbabilities = new float[steps * copies];
        Values = new float[steps * copies];
        Rewards = new float[steps * copies];
        EpisodeStarts = new float[steps * copies];
        Advantages = new float[steps * copies];
        Returns = new float[steps * copies];
    }

    public int Steps { get; }

    public int Copies { get; }

    public int ObservationSize { get; }

    public int ActionSize { get; }

    public int Position { get; set; }

    public bool Full => Position == Steps;

    public float[] Observations { get; }

    public float[] Actions { get; }

    public float[] LogProbabilities { get; }

    public float[] Values { get; }

    public float[] Rewards { get; }

    public float[] EpisodeStarts { get; }

    public float[] Advantages { get; }

    public float[] Returns { get; }

    public string StateKey => "rollout";

    /// <summary>GAE(λ) advantages and λ-returns; <paramref name="lastValues"/> and <paramref name="lastDones"/> are those after the last step.</summary>
    public void ComputeAdvantages(ReadOnlySpan<float> lastValues, ReadOnlySpan<float> lastDones, double gamma, double lambda)
    {
        for (int copy = 0; copy < Copies; copy++)
        {
            double gae = 0;
            for (int step = Steps - 1; step >= 0; step--)
            {
                int i = (step * Copies) + copy;
                double nextNonTerminal, nextValue;
                if (step == Steps - 1)
                {
                    nextNonTerminal = 1.0 - lastDones[copy];
                    nextValue = lastValues[copy];
                }
                else
                {
                    nextNonTerminal = 1.0 - EpisodeStarts[i + Copies];
                    nextValue = Values[i + Copies];
                }

                double delta = Rewards[i] + (gamma * nextValue * nextNonTerminal) - Values[i];
                gae = delta + (gamma * lambda * nextNonTerminal * gae);
                Advantages[i] = (float)gae;
                Returns[i] = (float)(gae + Values[i]);
            }
        }
    }

    public void SaveState(BinaryWriter writer)
    {
        writer.Write(Steps);
        writer.Write(Copies);
        writer.Write(Position);
        foreach (var array in Arrays())
        {
            foreach (float value in array)
            {
                writer.Write(value);
            }
        }
    }

    public void LoadState(BinaryReader reader)
    {
        int steps = reader.ReadInt32(), copies = reader.ReadInt32();
        if (steps != Steps || copies != Copies)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The saved rollout has {steps} steps of {copies} copies; this run's has {Steps} of {Copies}."));
        }

        Position = reader.ReadInt32();
        foreach (var array in Arrays())
        {
            for (int i = 0; i < array.Length; i++)
            {
                array[i] = reader.ReadSingle();
            }
        }
    }

    private float[][] Arrays() => [Observations, Actions, LogProbabilities, Values, Rewards, EpisodeStarts];
}
