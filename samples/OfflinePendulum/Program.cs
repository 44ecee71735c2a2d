// Offline RL with continuous actions from a CSV of logs: writes Pendulum-v1 logs of a mediocre
// behaviour policy to a CSV, trains TD3+BC from the CSV alone, plays the learnt policy online, and
// compares fitted Q evaluation's estimate of its discounted return (from the logs alone) with the
// discounted return it really earns from the same start states.
// Usage: dotnet run -c Release --project samples/OfflinePendulum [-- SEED]   (default seed 1)
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Reinforcement;

int seed = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1;
const double Gamma = 0.95;
const int Episodes = 20, FirstResetSeed = 11;
var torque = new BoxSpace(-2f, 2f, 1);

// 1. The logs: a swing-up and balance controller whose torque is replaced by a uniformly random one half of the time.
string csv = Path.GetFullPath("pendulum-logs.csv");
var random = new Pcg64(11);
var environment = ClassicControl.Pendulum();
double behaviourReturn = 0, behaviourDiscounted = 0;
using (var writer = new StreamWriter(csv))
{
    writer.WriteLine("cos,sin,velocity,torque,reward,next_cos,next_sin,next_velocity,terminated,truncated");
    for (int episode = 0; episode < Episodes; episode++)
    {
        float[] observation = environment.Reset(FirstResetSeed + episode).Observation;
        double discount = 1;
        while (true)
        {
            float action = random.NextDouble() < 0.5 ? (float)random.Uniform(-2, 2) : Controller(observation);
            StepResult step = environment.Step([action]);
            writer.WriteLine(string.Join(',', [.. observation.Select(Text), Text(action), Text((float)step.Reward), .. step.Observation.Select(Text), step.Terminated ? "true" : "false", step.Truncated ? "true" : "false"]));
            behaviourReturn += step.Reward / Episodes;
            behaviourDiscounted += discount * step.Reward / Episodes;
            discount *= Gamma;
            observation = step.Observation;
            if (step.Done)
            {
                break;
            }
        }
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {csv}: {Episodes} episodes; the behaviour returns {behaviourReturn:F1} ({behaviourDiscounted:F2} discounted with {Gamma})"));

// 2. Read the CSV as an IDataView: the columns OfflineOptions names by default.
var mlContext = new MLContext(seed: 1);
var logs = mlContext.Data.LoadFromTextFile(csv, [
    new TextLoader.Column("Observation", DataKind.Single, 0, 2), new TextLoader.Column("Action", DataKind.Single, 3, 3),
    new TextLoader.Column("Reward", DataKind.Single, 4), new TextLoader.Column("NextObservation", DataKind.Single, 5, 7),
    new TextLoader.Column("Terminated", DataKind.Boolean, 8), new TextLoader.Column("Truncated", DataKind.Boolean, 9)],
    separatorChar: ',', hasHeader: true);

// 3. TD3+BC from the logs alone.
ContinuousPolicy policy = new OfflineLearner(new OfflineOptions { MaxSteps = 4000, BatchSize = 128, Seed = seed, IntraOpThreads = 1 }).TrainTd3PlusBc(logs, torque);

// 4. Online: the return on fresh episodes, and the discounted return from the logs' own start states.
double online = policy.Evaluate(ClassicControl.Pendulum(), 10, seed: 900).Average();
double onlineDiscounted = 0;
for (int episode = 0; episode < Episodes; episode++)
{
    var play = ClassicControl.Pendulum();
    float[] observation = play.Reset(FirstResetSeed + episode).Observation;
    double discount = 1;
    while (true)
    {
        StepResult step = play.Step(policy.Act(observation));
        onlineDiscounted += discount * step.Reward / Episodes;
        discount *= Gamma;
        observation = step.Observation;
        if (step.Done)
        {
            break;
        }
    }
}

// 5. Fitted Q evaluation of the TD3+BC policy from the same logs (no environment).
OffPolicyEstimate estimate = new OfflineLearner(new OfflineOptions { MaxSteps = 3000, BatchSize = 128, Gamma = Gamma, TargetUpdateInterval = 20, Seed = seed, IntraOpThreads = 1 })
    .EvaluatePolicy(logs, policy);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"TD3+BC online: {online:F1} over 10 fresh episodes (the behaviour: {behaviourReturn:F1})"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"discounted return (γ {Gamma}) from the {estimate.InitialStates} logged starts: fitted Q evaluation {estimate.Value:F2}, measured online {onlineDiscounted:F2}, the behaviour {behaviourDiscounted:F2}"));

static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);

// Energy pumping (E = ½θ̇² + 15 cos θ towards the upright 15) far from the top, a PD rule near it.
static float Controller(float[] observation)
{
    double c = observation[0], s = observation[1], w = observation[2];
    double theta = Math.Atan2(s, c);
    double u = c > 0.85 ? -((10 * theta) + (2 * w)) : 2 * Math.Sign((15 - ((0.5 * w * w) + (15 * c))) * w);
    return (float)Math.Clamp(u, -2, 2);
}
