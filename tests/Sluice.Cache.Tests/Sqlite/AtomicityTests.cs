using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Testing;
using Sluice.Cache.Tests.Support;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Cache.Tests.Sqlite;

/// <summary>A process killed in the middle of its stores leaves every entry whole or absent, never half of one.</summary>
public sealed class AtomicityTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AWriterKilledMidStore_LeavesOnlyWholeEntries_AndEveryCommittedOne()
    {
        string path = _folder.File("cache.db");
        int committed = await RunChildUntilKilledAsync(path, afterStores: 30);

        var logger = new FakeLogger();
        using var cache = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = path }, logger);
        Assert.Null(cache.Statistics.DisabledReason);
        int found = 0;
        for (int i = 0; i < committed + 50; i++)
        {
            var answer = await cache.TryGetAsync(StoringChild.KeyOf(i)).DefaultTimeout();
            if (i <= committed)
            {
                Assert.NotNull(answer);
            }

            if (answer is not null)
            {
                found++;
                Assert.Equal(StoringChild.BodyOf(i), answer.Body.ToArray());
            }
        }

        // What the child said it stored is there, at most the one it was storing besides; no warning about any entry.
        Assert.InRange(found, committed + 1, committed + 2);
        Assert.Empty(logger.Collector.GetSnapshot());
        Assert.Equal(found, cache.Statistics.Entries);
    }

    /// <summary>Starts the child, lets it commit <paramref name="afterStores"/> stores, kills it mid-store; returns the last number it reported.</summary>
    private static async Task<int> RunChildUntilKilledAsync(string path, int afterStores)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(AtomicityTests).Assembly.Location);
        start.ArgumentList.Add("store-forever");
        start.ArgumentList.Add(path);
        using var child = Process.Start(start)!;
        int last = -1;
        try
        {
            while (last < afterStores)
            {
                string? line = await child.StandardOutput.ReadLineAsync().WaitAsync(TestWait.Limit);
                Assert.True(line is not null, "the storing child ended before it was killed");
                last = int.Parse(line, CultureInfo.InvariantCulture);
            }
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync().WaitAsync(TestWait.Limit);
        }

        // Lines written before the kill may still be unread: the last one read is a floor of what was committed.
        while (await child.StandardOutput.ReadLineAsync().WaitAsync(TestWait.Limit) is { } more)
        {
            last = int.Parse(more, CultureInfo.InvariantCulture);
        }

        return last;
    }
}
