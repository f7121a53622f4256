using Microsoft.Extensions.Time.Testing;

namespace Sluice.Proxy.Tests;

public sealed class ModelGroupsTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(10);

    [Fact]
    public void FirstModelsGetTheirOwnGroup_FurtherOnesShareUnlisted()
    {
        var groups = new ModelGroups(2, Idle, new FakeTimeProvider());

        Assert.Equal(["a", "b", ModelGroups.Unlisted, "a", ModelGroups.Unlisted], new[] { "a", "b", "c", "a", "d" }.Select(groups.GroupOf));
        Assert.Equal(2, groups.Count);
    }

    [Fact]
    public void AModelUnusedForTheIdleTime_FreesItsPlace_AndAModelInUseKeepsIt()
    {
        var time = new FakeTimeProvider();
        var groups = new ModelGroups(2, Idle, time);
        groups.GroupOf("old");
        groups.GroupOf("busy");

        time.Advance(Idle - TimeSpan.FromMinutes(1));
        Assert.Equal("busy", groups.GroupOf("busy"));
        Assert.Equal(ModelGroups.Unlisted, groups.GroupOf("new"));

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("new", groups.GroupOf("new"));
        Assert.Equal("busy", groups.GroupOf("busy"));
        Assert.Equal(ModelGroups.Unlisted, groups.GroupOf("old"));
    }

    [Fact]
    public void ZeroPlaces_PutsEveryModelInUnlisted()
    {
        var groups = new ModelGroups(0, Idle, new FakeTimeProvider());

        Assert.Equal(ModelGroups.Unlisted, groups.GroupOf("gpt-4o"));
        Assert.Equal(0, groups.Count);
    }

    [Fact]
    public void ManyNames_NeverHoldMoreThanTheBound()
    {
        var time = new FakeTimeProvider();
        var groups = new ModelGroups(100, Idle, time);

        for (int i = 0; i < 10_000; i++)
        {
            groups.GroupOf($"model-{i}");
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(100, groups.Count);
    }

    [Fact]
    public void HeldRequests_AdmitUpToTheBound_AndFreeOnExit()
    {
        var held = new HeldRequests(2);

        Assert.Equal([true, true, false], new[] { held.TryEnter(), held.TryEnter(), held.TryEnter() });
        held.Exit();
        Assert.True(held.TryEnter());
        Assert.Equal(2, held.Count);
    }
}
