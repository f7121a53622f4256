namespace Sluice.Proxy.Tests;

public sealed class BoundedTableTests
{
    [Fact]
    public void Get_SameKey_SameEntry()
    {
        var table = new BoundedTable<object>(3, _ => new object());

        Assert.Same(table.Get("a"), table.Get("a"));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Get_BeyondCapacity_DropsLeastRecentlyUsed()
    {
        var table = new BoundedTable<string>(2, key => key + "!");
        var first = table.Get("a");
        table.Get("b");
        table.Get("a"); // a is now more recent than b

        table.Get("c");

        Assert.Equal(2, table.Count);
        Assert.Equal(1, table.Dropped);
        Assert.Equal(["c", "a"], table.Snapshot().Select(e => e.Key));
        Assert.Same(first, table.Get("a"));
    }

    [Fact]
    public async Task ManyClients_Concurrently_NeverMoreThanCapacity()
    {
        var table = new BoundedTable<object>(50, _ => new object());

        await Parallel.ForAsync(0, 10_000, (i, _) =>
        {
            table.Get($"client-{i % 700}");
            Assert.True(table.Count <= 50);
            return ValueTask.CompletedTask;
        }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(50, table.Count);
        Assert.Equal(50, table.Snapshot().Select(e => e.Key).Distinct().Count());
    }
}
