using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;
using Sluice.Redis.Gate;

namespace Sluice.Redis.Tests.Gate;

/// <summary>What the multi-process tests share: gates on one Redis and one fake clock, bounded waits, window checks.</summary>
internal static class GateHelpers
{
    /// <summary>The longest any wait in these tests may take before the test fails: a bound, never a delay.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A gate standing for one process on <paramref name="configuration"/> and <paramref name="prefix"/>.</summary>
    public static SluiceGate NewGate(string configuration, string prefix, PartitionLimits limits, TimeProvider time, TimeSpan? leaseTimeToLive = null) =>
        RedisGate.Create(
            new RedisGateOptions
            {
                Configuration = configuration,
                KeyPrefix = prefix,
                LeaseTimeToLive = leaseTimeToLive ?? TimeSpan.FromSeconds(30),
                OperationTimeout = TimeSpan.FromSeconds(2),
            },
            new GateOptions { DefaultLimits = limits },
            time);

    /// <summary>The partition, once it hears what other processes announce: a test whose clock stands still has no poll to fall back on.</summary>
    public static async Task<GatePartition> Listening(SluiceGate gate, string key)
    {
        var partition = gate.GetPartition(key);
        await ((SharedPartition)partition).Subscribed.WaitAsync(Bound);
        return partition;
    }

    public static async Task<GateLease> Admitted(Task<GateLease> pending)
    {
        var lease = await pending.WaitAsync(Bound);
        Assert.True(lease.IsAdmitted, $"expected admission, got {lease.Rejection}: {lease.RejectionMessage}");
        return lease;
    }

    /// <summary>Waits, in real time and within <see cref="Bound"/>, until <paramref name="condition"/> holds.</summary>
    public static async Task Eventually(Func<bool> condition, string what, Action? step = null)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < Bound, $"not within {Bound}: {what}");
            step?.Invoke();
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }
    }

    /// <summary>Asserts that over every interval, the starts (timestamp, cost) hold no more than burst + rate × length.</summary>
    public static void AssertNoWindowExceeds(List<(long At, double Cost)> starts, FakeTimeProvider time, double burst, double perSecond, string what)
    {
        starts.Sort((a, b) => a.At.CompareTo(b.At));
        for (int i = 0; i < starts.Count; i++)
        {
            double sum = 0;
            for (int j = i; j < starts.Count; j++)
            {
                sum += starts[j].Cost;
                double seconds = time.GetElapsedTime(starts[i].At, starts[j].At).TotalSeconds;
                Assert.True(sum <= burst + (perSecond * seconds) + 1e-6, $"{sum} {what} started within {seconds} s (allowed {burst} + {perSecond}/s)");
            }
        }
    }
}
