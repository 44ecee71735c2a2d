using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

/// <summary>
/// --play-cartpole: plays CartPole-v1 episodes with a saved policy model, using CartPole's equations
/// written out here (this program must not reference the library that defines the environment).
/// Each line of the starts file is one episode's float64 start state (x, x_dot, theta, theta_dot);
/// prints each episode's return, one per line.
/// </summary>
internal static class CartPolePlay
{
    private const double Gravity = 9.8, MassCart = 1.0, MassPole = 0.1, TotalMass = MassPole + MassCart;
    private const double Length = 0.5, PoleMassLength = MassPole * Length, ForceMagnitude = 10.0, Tau = 0.02;
    private const double ThetaThreshold = 12 * 2 * Math.PI / 360, XThreshold = 2.4;
    private const int MaxEpisodeSteps = 500;

    public static int Run(string modelPath, string startsPath)
    {
        var context = new MLContext();
        var model = context.Model.Load(modelPath, out var inputSchema);
        var definition = SchemaDefinition.Create(typeof(ObservationRow));
        definition["Observation"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, ((VectorDataViewType)inputSchema["Observation"].Type).Size);
        var engine = context.Model.CreatePredictionEngine<ObservationRow, ActionRow>(model, new PredictionEngineOptions { InputSchemaDefinition = definition, OwnsTransformer = false });
        foreach (string line in File.ReadAllLines(startsPath).Where(l => l.Length > 0))
        {
            double[] s = line.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            double total = 0;
            for (int step = 1; step <= MaxEpisodeSteps; step++)
            {
                float[] observation = [(float)s[0], (float)s[1], (float)s[2], (float)s[3]];
                uint key = engine.Predict(new ObservationRow { Observation = observation }).PredictedLabel;
                if (key is < 1 or > 2)
                {
                    Console.Error.WriteLine($"PredictedLabel key {key} is not an action of CartPole");
                    return 1;
                }

                total += 1;
                if (Advance(s, action: (int)key - 1))
                {
                    break;
                }
            }

            Console.WriteLine(total.ToString("R", CultureInfo.InvariantCulture));
        }

        return 0;
    }

    /// <summary>One Euler step of Gymnasium's CartPole; true when the pole fell or the cart left the track.</summary>
    private static bool Advance(double[] s, int action)
    {
        double x = s[0], xDot = s[1], theta = s[2], thetaDot = s[3];
        double force = action == 1 ? ForceMagnitude : -ForceMagnitude;
        double cosTheta = Math.Cos(theta), sinTheta = Math.Sin(theta);
        double temp = (force + (PoleMassLength * (thetaDot * thetaDot) * sinTheta)) / TotalMass;
        double thetaAcc = ((Gravity * sinTheta) - (cosTheta * temp)) / (Length * ((4.0 / 3.0) - (MassPole * (cosTheta * cosTheta) / TotalMass)));
        double xAcc = temp - (PoleMassLength * thetaAcc * cosTheta / TotalMass);
        s[0] = x + (Tau * xDot);
        s[1] = xDot + (Tau * xAcc);
        s[2] = theta + (Tau * thetaDot);
        s[3] = thetaDot + (Tau * thetaAcc);
        return s[0] < -XThreshold || s[0] > XThreshold || s[2] < -ThetaThreshold || s[2] > ThetaThreshold;
    }

    internal sealed class ObservationRow
    {
        public float[] Observation { get; set; } = [];
    }

    internal sealed class ActionRow
    {
        public uint PredictedLabel { get; set; }
    }
}
