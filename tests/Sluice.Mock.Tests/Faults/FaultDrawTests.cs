using Sluice.Mock.Faults;

namespace Sluice.Mock.Tests.Faults;

public class FaultDrawTests
{
    private const int Draws = 100_000;

    private static readonly MockFaults Every = new()
    {
        InternalServerErrorRate = 0.1,
        BadGatewayRate = 0.05,
        ServiceUnavailableRate = 0.1,
        OverloadedRate = 0.1,
        ConnectionResetRate = 0.05,
        HangRate = 0.1,
        MalformedBodyRate = 0.1,
        StreamCutRate = 0.2,
    };

    [Theory]
    [InlineData("InternalServerError", 0.1)]
    [InlineData("BadGateway", 0.05)]
    [InlineData("ServiceUnavailable", 0.1)]
    [InlineData("Overloaded", 0.1)]
    [InlineData("ConnectionReset", 0.05)]
    [InlineData("Hang", 0.1)]
    [InlineData("MalformedBody", 0.1)]
    [InlineData("StreamCut", 0.2)]
    [InlineData("None", 0.2)]
    public void Next_HitsEachFaultAtItsRate(string fault, double rate)
    {
        var kind = Enum.Parse<FaultKind>(fault);
        var draw = new FaultDraw(Every, seed: 7);

        var hits = Enumerable.Range(0, Draws).Count(_ => draw.Next(anthropic: true, stream: true) == kind);

        // Four standard deviations of a binomial count: a correct draw fails this about once in 16,000 seeds.
        var tolerance = 4 * Math.Sqrt(Draws * rate * (1 - rate));
        Assert.InRange(hits, (Draws * rate) - tolerance, (Draws * rate) + tolerance);
    }

    [Fact]
    public void Next_SkipsFaultsThatDoNotApply_WithoutShiftingTheOthers()
    {
        var anthropicStream = new FaultDraw(Every, seed: 3);
        var openAIPlain = new FaultDraw(Every, seed: 3);

        for (var i = 0; i < 10_000; i++)
        {
            var full = anthropicStream.Next(anthropic: true, stream: true);
            var plain = openAIPlain.Next(anthropic: false, stream: false);
            var expected = full is FaultKind.Overloaded or FaultKind.StreamCut ? FaultKind.None : full;
            Assert.Equal(expected, plain);
        }
    }

    [Fact]
    public void Reset_RepeatsTheSequence_AndTheSeedChangesIt()
    {
        var draw = new FaultDraw(Every, seed: 11);
        var first = Enumerable.Range(0, 200).Select(_ => draw.Next(true, true)).ToList();

        draw.Reset();
        var again = Enumerable.Range(0, 200).Select(_ => draw.Next(true, true)).ToList();
        var other = new FaultDraw(Every, seed: 12);
        var otherSeed = Enumerable.Range(0, 200).Select(_ => other.Next(true, true)).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public void Next_WithNoFaults_NeverHits()
    {
        var draw = new FaultDraw(new MockFaults(), seed: 1);

        Assert.All(Enumerable.Range(0, 1000), _ => Assert.Equal(FaultKind.None, draw.Next(true, true)));
    }
}
