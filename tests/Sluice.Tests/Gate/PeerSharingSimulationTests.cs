using Xunit.Abstractions;

namespace Sluice.Tests.Gate;

/// <summary>
/// Independent processes on one key, without Redis (issue 15): each gate learns its share of the provider's budget
/// from the headers every answer carries and from 429s. Checked in virtual time against a simulated provider, so the
/// bounds hold whatever the machine's speed.
/// </summary>
public sealed class PeerSharingSimulationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(10, 150, 25, 0)]
    [InlineData(10, 150, 25, 5)]
    [InlineData(4, 375, 25, 2)]
    [InlineData(1, 1500, 25, 0)]
    public void Peers_ShareOneBudget(int peers, int jobsPerPeer, double perSecond, double spread)
    {
        var result = PeerSharingSimulation.Run(peers, jobsPerPeer, perSecond, latency: 0.3, jitter: 0.2, seed: 17, spread, trace: peers == 10 && spread > 0 ? output.WriteLine : null);
        output.WriteLine(result.ToString());
        Assert.Equal(peers * jobsPerPeer, result.Completed);
    }
}
