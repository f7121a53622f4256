using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Providers;

namespace Sluice.Tests.Engine;

public sealed class StreamWatchTests
{
    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void Finish_WhenTheProfileSettlesANegativeCount_ReleasesTheSlot_AndDoesNotThrow(long settled)
    {
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, new FakeTimeProvider());
        var partition = gate.GetPartition("p");
        var lease = partition.TryAcquire(new AdmissionRequest(10, 0));
        var watch = new StreamWatch(lease, new SettlingProfile(() => settled));
        watch.Observe(Encoding.UTF8.GetBytes("data: {\"usage\":{\"total_tokens\":5}}\n"));

        watch.Finish();

        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void Finish_WhenSettlingThrows_StillReleasesTheSlot()
    {
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, new FakeTimeProvider());
        var partition = gate.GetPartition("p");
        var lease = partition.TryAcquire(new AdmissionRequest(10, 0));
        var watch = new StreamWatch(lease, new SettlingProfile(() => throw new OverflowException("usage")));
        watch.Observe(Encoding.UTF8.GetBytes("data: {\"usage\":{\"total_tokens\":5}}\n"));

        watch.Finish();

        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    /// <summary>A profile whose settlement is scripted, as a provider profile added later might get it wrong.</summary>
    private sealed class SettlingProfile(Func<long> settle) : ProviderProfile
    {
        public override ProviderKind Kind => ProviderKind.OpenAICompatible;

        public override Classification Classify(int statusCode, RateLimitInfo limits, string? mediaType, ReadOnlySpan<byte> body, DateTimeOffset now) =>
            new(AttemptOutcomeKind.Success, "", null, null);

        public override bool IsStreamTerminator(ReadOnlySpan<byte> sseLine) => false;

        public override long SettledTokens(long reserved, long used) => settle();
    }
}
