using Xunit.Abstractions;

namespace Sluice.Tests.Gate;

/// <summary>
/// Independent processes on one key, without Redis (issue 15): each gate learns its share of the provider's budget
/// from the counts every answer carries and from 429s. Checked in virtual time against a simulated provider (1,500
/// requests a minute, a second's burst, answers in 300 ± 200 ms), so the bounds hold whatever the machine's speed.
/// Without the share (each process pacing at the whole stated budget), ten processes drew 21.5% 429s and took 2.7
/// times the ideal in this simulation; four drew 7.1% and took 5.8 times it.
/// </summary>
public sealed class PeerSharingSimulationTests(ITestOutputHelper output)
{
    private const double PerSecond = 25;

    [Theory]
    [InlineData(17)]
    [InlineData(18)]
    [InlineData(19)]
    public void TenPeersStartingOverFiveSeconds_ShareTheBudget_WithFewThrottles(int seed)
    {
        // Each newcomer's first wave goes out blind (before its first answer), into a provider bucket the others keep
        // about half full: most of the 429s left are those.
        var result = Run(Enumerable.Repeat(150, 10).ToArray(), seed, startSpread: 5);

        Assert.Equal(1_500, result.Completed);
        Assert.InRange(result.ThrottleShare, 0, 0.03);
        Assert.InRange(result.BudgetUsed, 0.93, 1.01);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(18)]
    public void TenPeersStartingTogether_OnlyTheirBlindFirstWaveIsRefused(int seed)
    {
        // Four requests each before any answer (the adaptive concurrency's start), 40 against the provider's burst of
        // 25: part of the first wave is refused, whatever anyone learns; after it, hardly a 429.
        var result = Run(Enumerable.Repeat(150, 10).ToArray(), seed, startSpread: 0);

        Assert.Equal(1_500, result.Completed);
        Assert.InRange(result.ThrottleShare, 0, 0.04);
        Assert.InRange(result.BudgetUsed, 0.9, 1.01);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(18)]
    public void FourPeers_ShareTheBudget(int seed)
    {
        var result = Run(Enumerable.Repeat(375, 4).ToArray(), seed, startSpread: 2);

        Assert.Equal(1_500, result.Completed);
        Assert.InRange(result.ThrottleShare, 0, 0.01);
        Assert.InRange(result.BudgetUsed, 0.95, 1.01);
    }

    [Fact]
    public void PeersWithUnevenWork_TheLastTakesUpTheBudgetTheOthersLeave()
    {
        // Three small slices and one large: once the three finish, the fourth must reach the whole budget quickly.
        var result = Run([100, 100, 100, 1_200], seed: 17, startSpread: 1);

        Assert.Equal(1_500, result.Completed);
        Assert.InRange(result.ThrottleShare, 0, 0.02);
        Assert.InRange(result.BudgetUsed, 0.93, 1.01);
    }

    [Fact]
    public void OnePeer_RunsAtTheWholeBudget_WithoutA429()
    {
        var result = Run([1_500], seed: 17, startSpread: 0);

        Assert.Equal(1_500, result.Completed);
        Assert.Equal(0, result.Throttled);
        Assert.InRange(result.BudgetUsed, 0.99, 1.02);
    }

    private PeerSharingSimulation.Result Run(int[] jobs, int seed, double startSpread)
    {
        var result = PeerSharingSimulation.Run(jobs, PerSecond, latency: 0.3, jitter: 0.2, seed, startSpread);
        output.WriteLine(result.ToString());
        return result;
    }
}
