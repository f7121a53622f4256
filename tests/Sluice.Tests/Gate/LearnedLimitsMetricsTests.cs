using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The limits in force, learned or configured, are gauges of the <c>Sluice</c> meter.</summary>
public sealed class LearnedLimitsMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Gauges_ReportEachPartitionsLimitsInForce()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = SluiceGate.Create(
            new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 40, AdaptiveConcurrency = true, TokensPerWindow = 90_000 } },
            time,
            meterFactory: meters);
        using var concurrency = new MetricCollector<double>(meters, "Sluice", "sluice.partition.concurrency_limit");
        using var requests = new MetricCollector<double>(meters, "Sluice", "sluice.partition.request_budget");
        using var tokens = new MetricCollector<double>(meters, "Sluice", "sluice.partition.token_budget");
        gate.GetPartition("learned").ObserveRequests(499, time.GetUtcNow().AddSeconds(1), limit: 500);
        gate.GetPartition("plain");

        concurrency.RecordObservableInstruments();
        requests.RecordObservableInstruments();
        tokens.RecordObservableInstruments();

        Assert.Equal(AimdLimit.InitialLimit, Latest(concurrency, "learned"));
        Assert.Equal(500, Latest(requests, "learned"));
        Assert.Null(Latest(requests, "plain"));
        Assert.Equal(90_000, Latest(tokens, "plain"));
    }

    private static double? Latest(MetricCollector<double> collector, string partition) =>
        collector.GetMeasurementSnapshot()
            .LastOrDefault(m => Equals(m.Tags["sluice.partition"], partition))?.Value;
}
