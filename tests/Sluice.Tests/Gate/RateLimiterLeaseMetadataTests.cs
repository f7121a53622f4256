using System.Threading.RateLimiting;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>A failed <see cref="RateLimiter"/> lease answers each metadata name with its own value.</summary>
public sealed class RateLimiterLeaseMetadataTests
{
    [Fact]
    public void TryGetMetadata_ReasonPhrase_OnARejectionWithARetryTime_IsTheReasonNotTheTime()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        var limiter = partition.AsRateLimiter();
        using var first = limiter.AttemptAcquire(800);
        using var second = limiter.AttemptAcquire(500);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out _));

        Assert.True(second.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));

        Assert.False(string.IsNullOrEmpty(reason));
    }
}
