using Microsoft.ML;
using ML.DeepExtensions.Sequence.Datasets;
using ML.DeepExtensions.Tests.TestData;

namespace ML.DeepExtensions.Tests.Sequence;

/// <summary>Real data: the time series bundled with Debian's python3-statsmodels.</summary>
[TestClass]
public sealed class StatsmodelsSeriesTests
{
    [TestMethod]
    public void SunspotsAreTheYears1700To2008InOrder()
    {
        var sunspots = StatsmodelsSeries.Sunspots(DebianDatasets.StatsmodelsDirectory());

        Assert.HasCount(309, sunspots);
        Assert.AreEqual(1700, sunspots[0].Time.Year);
        Assert.AreEqual(2008, sunspots[^1].Time.Year);
        Assert.AreEqual(5f, sunspots[0].Value);
        Assert.AreEqual(2.9f, sunspots[^1].Value);
        Assert.IsTrue(sunspots.Zip(sunspots.Skip(1)).All(p => p.Second.Time.Year == p.First.Time.Year + 1), "one value per year, no gaps");
        Assert.IsTrue(sunspots.All(p => float.IsFinite(p.Value) && p.Value >= 0));
    }

    [TestMethod]
    public void TheOtherSeriesReadWithTheirLengthsAndCo2KeepsItsGapsAsNaN()
    {
        string directory = DebianDatasets.StatsmodelsDirectory();
        var co2 = StatsmodelsSeries.Co2(directory);
        var nile = StatsmodelsSeries.Nile(directory);
        var elnino = StatsmodelsSeries.ElNino(directory);

        Assert.HasCount(2284, co2);
        Assert.AreEqual(new DateTime(1958, 3, 29), co2[0].Time.Date);
        Assert.AreEqual(59, co2.Count(p => float.IsNaN(p.Value)));
        Assert.HasCount(100, nile);
        Assert.AreEqual(1871, nile[0].Time.Year);
        Assert.AreEqual(1120f, nile[0].Value);
        Assert.HasCount(732, elnino);
        Assert.AreEqual(new DateTime(1950, 2, 1), elnino[1].Time.Date);
        Assert.AreEqual(24.2f, elnino[1].Value);
        Assert.AreEqual(22.07f, elnino[^1].Value);
    }

    [TestMethod]
    public void AMissingFileIsNamedWithTheWayToGetIt()
    {
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => StatsmodelsSeries.Sunspots(Path.Combine(Path.GetTempPath(), "no-such-datasets")));
        StringAssert.Contains(e.Message, "sunspots.csv");
        StringAssert.Contains(e.Message, "fetch-data.sh");
    }

    [TestMethod]
    public void TheForecasterNamesTheFirstGapOfTheRealCo2Series()
    {
        var context = new MLContext(seed: 1);
        var co2 = context.Data.LoadFromEnumerable(StatsmodelsSeries.Co2(DebianDatasets.StatsmodelsDirectory()));

        var e = Assert.ThrowsExactly<ArgumentException>(() => context.Forecasting.ForecastByRecurrentNetwork(inputColumnName: nameof(SeriesPoint.Value)).Fit(co2));

        StringAssert.Contains(e.Message, "row 6");
        StringAssert.Contains(e.Message, "'Value'");
    }
}
