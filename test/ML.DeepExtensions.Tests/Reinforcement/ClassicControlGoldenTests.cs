using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ML.DeepExtensions.Reinforcement;

namespace ML.DeepExtensions.Tests.Reinforcement;

/// <summary>
/// The built-in environments against trajectories computed independently from Gymnasium's published
/// equations by Golden/make_golden.py (NumPy; see the command there): seeded resets, hand-set start
/// states, fixed action sequences; observations and rewards to 1e-6, float64 states to 1e-9, flags exact.
/// </summary>
[TestClass]
public sealed class ClassicControlGoldenTests
{
    // The brief's 1e-6 for what a learner sees; the float64 states agree to about 1e-13 here, and 1e-9
    // is tight enough to catch a missing float32 rounding (Acrobot's reset, MountainCarContinuous's state).
    private const double Tolerance = 1e-6;
    private const double StateTolerance = 1e-9;

    [TestMethod]
    public void CartPoleFollowsTheGoldenTrajectories() =>
        Replay(Load("CartPole-v1"), () => new CartPoleEnvironment(), (e, s) => e.State = s, (e) => e.State, a => a.GetInt32());

    [TestMethod]
    public void AcrobotFollowsTheGoldenTrajectories() =>
        Replay(Load("Acrobot-v1"), () => new AcrobotEnvironment(), (e, s) => e.State = s, (e) => e.State, a => a.GetInt32());

    [TestMethod]
    public void MountainCarFollowsTheGoldenTrajectories() =>
        Replay(Load("MountainCar-v0"), () => new MountainCarEnvironment(), (e, s) => e.State = s, (e) => e.State, a => a.GetInt32());

    [TestMethod]
    public void MountainCarContinuousFollowsTheGoldenTrajectories() =>
        Replay(Load("MountainCarContinuous-v0"), () => new MountainCarContinuousEnvironment(), (e, s) => e.State = s, (e) => e.State, Vector);

    [TestMethod]
    public void PendulumFollowsTheGoldenTrajectories() =>
        Replay(Load("Pendulum-v1"), () => new PendulumEnvironment(), (e, s) => e.State = s, (e) => e.State, Vector);

    [TestMethod]
    public void Pcg64MatchesNumPysDefaultRng()
    {
        using JsonDocument golden = JsonDocument.Parse(File.ReadAllText(GoldenPath("pcg64")));
        foreach (JsonElement c in golden.RootElement.GetProperty("cases").EnumerateArray())
        {
            ulong seed = c.GetProperty("seed").GetUInt64();
            var raw = new Pcg64(seed);
            foreach (JsonElement expected in c.GetProperty("uint64").EnumerateArray())
            {
                Assert.AreEqual(ulong.Parse(expected.GetString()!, CultureInfo.InvariantCulture), raw.NextUInt64(), $"seed {seed}");
            }
            var doubles = new Pcg64(seed);
            foreach (JsonElement expected in c.GetProperty("doubles").EnumerateArray())
            {
                Assert.AreEqual(expected.GetDouble(), doubles.NextDouble(), $"seed {seed}");
            }
        }
    }

    private static float[] Vector(JsonElement a) => [.. a.EnumerateArray().Select(v => (float)v.GetDouble())];

    private static void Replay<TEnv, TAction>(JsonDocument golden, Func<TEnv> create, Action<TEnv, double[]> setState,
        Func<TEnv, IReadOnlyList<double>> getState, Func<JsonElement, TAction> action)
        where TEnv : IEnvironment<TAction>
    {
        string name = golden.RootElement.GetProperty("environment").GetString()!;
        int episodeIndex = 0, steps = 0, terminations = 0;
        foreach (JsonElement episode in golden.RootElement.GetProperty("episodes").EnumerateArray())
        {
            string where = $"{name} episode {episodeIndex++}";
            TEnv env = create();
            Assert.AreEqual(name, env.Name);
            if (episode.GetProperty("seed").ValueKind == JsonValueKind.Number)
            {
                ResetResult reset = env.Reset(episode.GetProperty("seed").GetInt32());
                AssertClose(Doubles(episode.GetProperty("reset_observation")), [.. reset.Observation.Select(v => (double)v)], $"{where} reset observation");
                AssertClose(Doubles(episode.GetProperty("reset_state")), [.. getState(env)], $"{where} reset state", StateTolerance);
            }
            else
            {
                setState(env, Doubles(episode.GetProperty("start")));
            }

            JsonElement[] actions = [.. episode.GetProperty("actions").EnumerateArray()];
            JsonElement[] states = [.. episode.GetProperty("states").EnumerateArray()];
            JsonElement[] observations = [.. episode.GetProperty("observations").EnumerateArray()];
            JsonElement[] rewards = [.. episode.GetProperty("rewards").EnumerateArray()];
            JsonElement[] terminated = [.. episode.GetProperty("terminated").EnumerateArray()];
            for (int t = 0; t < actions.Length; t++)
            {
                StepResult result = env.Step(action(actions[t]));
                string at = $"{where} step {t + 1}";
                AssertClose(Doubles(observations[t]), [.. result.Observation.Select(v => (double)v)], $"{at} observation");
                AssertClose(Doubles(states[t]), [.. getState(env)], $"{at} state", StateTolerance);
                Assert.AreEqual(rewards[t].GetDouble(), result.Reward, Tolerance, $"{at} reward");
                Assert.AreEqual(terminated[t].GetBoolean(), result.Terminated, $"{at} terminated");
                Assert.IsFalse(result.Truncated, $"{at}: the unwrapped environment never truncates");
                Assert.AreEqual(env.ObservationSpace.Size, result.Observation.Length);
                terminations += result.Terminated ? 1 : 0;
                steps++;
            }
        }
        Assert.IsGreaterThan(100, steps, $"{name}: too few golden steps");
        if (name != "Pendulum-v1")
        {
            Assert.IsGreaterThan(0, terminations, $"{name}: the golden episodes should include a termination");
        }
    }

    private static void AssertClose(double[] expected, double[] actual, string what, double tolerance = Tolerance)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"{what}[{i}]");
        }
    }

    private static double[] Doubles(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetDouble())];

    private static JsonDocument Load(string name) => JsonDocument.Parse(File.ReadAllText(GoldenPath(name)));

    internal static string GoldenPath(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Golden", name + ".json");
}
