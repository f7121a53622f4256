using Sluice.Cli.BatchApi;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchApiOptionsTests
{
    [Fact]
    public void NextPoll_DoublesWhileNothingEnds_UpToSixteenTimes_AndResetsWhenSomethingEnds()
    {
        var options = new BatchApiOptions(TimeSpan.FromSeconds(30), null);
        var waits = new List<TimeSpan>();
        var wait = options.PollInterval;
        for (int i = 0; i < 6; i++)
        {
            wait = options.NextPoll(wait, somethingEnded: false);
            waits.Add(wait);
        }

        Assert.Equal([60, 120, 240, 480, 480, 480], waits.Select(w => w.TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(30), options.NextPoll(wait, somethingEnded: true));
    }

    [Fact]
    public void MaxPollInterval_IsTenMinutesAtMost_UnlessTheFirstIsMore()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), new BatchApiOptions(TimeSpan.FromMinutes(2), null).MaxPollInterval);
        Assert.Equal(TimeSpan.FromMinutes(20), new BatchApiOptions(TimeSpan.FromMinutes(20), null).MaxPollInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(1_600), new BatchApiOptions(TimeSpan.FromMilliseconds(100), null).MaxPollInterval);
    }
}
