using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// What a partition tells operators about decisions that change nothing, and about TryAcquire and learning: no
/// pause or resumption that did not happen, no queue-full line for another refusal, the learned rates per minute.
/// </summary>
public sealed class PartitionDecisionTelemetryTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeLogCollector _logs = new();
    private readonly FakeTimeProvider _time = new(GateTestKit.Start);

    public void Dispose() => _services.Dispose();

    [Fact]
    public void PauseUntil_APastInstant_OrTheSameInstantAgain_IsNoNewPause()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var pauses = new MetricCollector<long>(meters, "Sluice", "sluice.gate.pauses");
        using var gate = Gate(new PartitionLimits(), meters);
        var partition = gate.GetPartition("p");
        var until = _time.GetUtcNow().AddSeconds(5);

        partition.PauseUntil(_time.GetUtcNow().AddSeconds(-1));
        partition.PauseUntil(until);
        partition.PauseUntil(until);

        Assert.Equal(1, pauses.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Single(_logs.GetSnapshot());
    }

    [Fact]
    public void Resume_APartitionThatWasNotStopped_LogsNothing()
    {
        using var gate = Gate(new PartitionLimits());
        var partition = gate.GetPartition("p");

        partition.Resume();

        Assert.Empty(_logs.GetSnapshot());
    }

    [Fact]
    public void TryAcquire_CountsItsAdmissionsAndRefusals_WithoutAQueueFullLine()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var admitted = new MetricCollector<long>(meters, "Sluice", "sluice.gate.admitted");
        using var rejected = new MetricCollector<long>(meters, "Sluice", "sluice.gate.rejected");
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 1 }, meters);
        var partition = gate.GetPartition("p");

        using var lease = partition.TryAcquire(new AdmissionRequest());
        var refused = partition.TryAcquire(new AdmissionRequest());

        Assert.True(lease.IsAdmitted);
        Assert.False(refused.IsAdmitted);
        Assert.Equal(1, admitted.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, rejected.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Empty(_logs.GetSnapshot());
    }

    [Fact]
    public void RecordOutcome_ARateLearnedFrom429s_IsLoggedPerMinute()
    {
        // Four started in the first second, the fourth refused: three a second, 180 a minute.
        using var gate = Gate(new PartitionLimits());
        var partition = gate.GetPartition("p");
        var leases = Enumerable.Range(0, 4).Select(_ => partition.Enter(new AdmissionRequest()).Admitted()).ToList();

        partition.RecordOutcome(leases[3], PacingSignal.Throttled);

        var message = Assert.Single(_logs.GetSnapshot()).Message;
        Assert.Contains("180", message, StringComparison.Ordinal);
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void ObserveTokens_AStatedTokenBudget_IsLoggedPerMinute()
    {
        using var gate = Gate(new PartitionLimits());
        var partition = gate.GetPartition("p");

        partition.ObserveTokens(5_000, _time.GetUtcNow().AddSeconds(30), limit: 6_000);

        var message = Assert.Single(_logs.GetSnapshot()).Message;
        Assert.True(message.Contains("6000", StringComparison.Ordinal) || message.Contains("6,000", StringComparison.Ordinal), message);
    }

    private SluiceGate Gate(PartitionLimits limits, IMeterFactory? meters = null)
    {
        var loggers = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug));
        return SluiceGate.Create(new GateOptions { DefaultLimits = limits }, _time, loggers, meters);
    }
}
