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
/// What a partition tells operators: the gate's counters and its log lines, one per decision that matters, and nothing
/// for decisions that change nothing (no pause or resumption that did not happen, no queue-full line for another
/// refusal); learned rates are logged per minute.
/// </summary>
public sealed class GateTelemetryTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeLogCollector _logs = new();
    private readonly FakeTimeProvider _time = new(GateTestKit.Start);

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Counters_FollowAdmissions_Waits_Rejections_AndSettlements()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var queued = new MetricCollector<int>(meters, "Sluice", "sluice.gate.queued");
        using var inFlight = new MetricCollector<int>(meters, "Sluice", "sluice.gate.in_flight");
        using var admitted = new MetricCollector<long>(meters, "Sluice", "sluice.gate.admitted");
        using var rejected = new MetricCollector<long>(meters, "Sluice", "sluice.gate.rejected");
        using var waits = new MetricCollector<double>(meters, "Sluice", "sluice.gate.wait_time");
        using var reserved = new MetricCollector<long>(meters, "Sluice", "sluice.gate.tokens.reserved");
        using var settled = new MetricCollector<long>(meters, "Sluice", "sluice.gate.tokens.settled");
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = 1 }, meters);
        var partition = gate.GetPartition("p");

        var first = partition.Enter(new AdmissionRequest(40)).Admitted();
        var second = partition.Enter(new AdmissionRequest(0));
        partition.Enter(new AdmissionRequest()).Rejected();
        _time.Advance(TimeSpan.FromSeconds(2));
        first.Settle(30);
        first.Dispose();
        second.Admitted().Dispose();

        Assert.Equal(0, Sum(queued));
        Assert.Equal(2, queued.GetMeasurementSnapshot().Count);
        Assert.Equal(0, Sum(inFlight));
        Assert.Equal(2, Sum(admitted));
        Assert.Equal(1, Sum(rejected));
        Assert.Equal("QueueFull", rejected.LastMeasurement!.Tags["sluice.rejection"]);
        Assert.Equal([0.0, 2.0], waits.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(40, Sum(reserved));
        Assert.Single(reserved.GetMeasurementSnapshot());
        Assert.Equal(30, Sum(settled));
        Assert.All(admitted.GetMeasurementSnapshot(), m => Assert.Equal("p", m.Tags["sluice.partition"]));
    }

    [Fact]
    public async Task Counters_CountACancelledWaiterOut_AndPauses()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var queued = new MetricCollector<int>(meters, "Sluice", "sluice.gate.queued");
        using var pauses = new MetricCollector<long>(meters, "Sluice", "sluice.gate.pauses");
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 1 }, meters);
        var partition = gate.GetPartition("p");
        using var holder = partition.Enter(new AdmissionRequest()).Admitted();
        using var cts = new CancellationTokenSource();
        var waiter = partition.Enter(new AdmissionRequest(), cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(10)));
        partition.PauseUntil(_time.GetUtcNow().AddSeconds(5));
        partition.PauseUntil(_time.GetUtcNow().AddSeconds(1));

        Assert.Equal(0, Sum(queued));
        Assert.Equal(1, Sum(pauses));
    }

    [Fact]
    public void Logs_SayWhenAPartitionIsPaused_Stopped_Resumed_Full_OrChanged()
    {
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = 1 });
        var partition = gate.GetPartition("p");
        using var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var waiting = partition.Enter(new AdmissionRequest());

        partition.Enter(new AdmissionRequest()).Rejected();
        partition.PauseUntil(_time.GetUtcNow().AddSeconds(3));
        partition.Stop("quota exhausted");
        partition.Resume();
        partition.UpdateLimits(new PartitionLimits { MaxConcurrency = 5, RequestsPerWindow = 100 });

        var messages = _logs.GetSnapshot().Select(r => r.Message).ToList();
        Assert.Equal(5, messages.Count);
        Assert.All(messages, m => Assert.Contains("p", m, StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("quota exhausted", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("00:00:03", StringComparison.Ordinal));
    }

    [Fact]
    public void Logs_SayWhatWasLearned()
    {
        using var gate = Gate(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 64 });
        var partition = gate.GetPartition("p");

        partition.ObserveBudget(BudgetDimension.Requests, 400, _time.GetUtcNow().AddSeconds(30), limit: 500);
        partition.ObserveBudget(BudgetDimension.OutputTokens, 7_000, _time.GetUtcNow().AddSeconds(30), limit: 8_000);
        partition.ObserveBudget(BudgetDimension.RequestsPerDay, 9_000, _time.GetUtcNow().AddHours(3), limit: 10_000);
        int logged = _logs.Count;
        partition.ObserveBudget(BudgetDimension.Requests, 300, _time.GetUtcNow().AddSeconds(30), limit: 500);
        Assert.Equal(logged, _logs.Count);

        var lease = partition.Enter(new AdmissionRequest()).Admitted();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        partition.RecordOutcome(lease, PacingSignal.Overloaded);
        lease.Dispose();

        var messages = _logs.GetSnapshot().Select(r => r.Message).ToList();
        Assert.Equal(4, messages.Count);
        Assert.Contains(messages, m => m.Contains("500", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("8000", StringComparison.Ordinal) || m.Contains("8,000", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("10000", StringComparison.Ordinal) || m.Contains("10,000", StringComparison.Ordinal));
    }

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

    [Fact]
    public void Acquire_NewTenantAtAFullTenantTable_LogsTheTenantLimitNotTheQueue()
    {
        var loggers = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(_logs)));
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { LearnBudgets = false }, MaxTenants = 1 }, _time, loggers);
        var partition = gate.GetPartition("p");
        using var busy = partition.Enter(new AdmissionRequest { Tenant = new GateTenant("a") }).Admitted();

        partition.Enter(new AdmissionRequest { Tenant = new GateTenant("b") }).Rejected();

        var line = Assert.Single(_logs.GetSnapshot());
        Assert.Equal(112, line.Id.Id);
        Assert.Contains("1 tenants", line.Message, StringComparison.Ordinal);
    }

    private SluiceGate Gate(PartitionLimits limits, IMeterFactory? meters = null)
    {
        var loggers = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug));
        return SluiceGate.Create(new GateOptions { DefaultLimits = limits }, _time, loggers, meters);
    }

    private static long Sum<T>(MetricCollector<T> collector)
        where T : struct => collector.GetMeasurementSnapshot().Sum(m => Convert.ToInt64(m.Value, System.Globalization.CultureInfo.InvariantCulture));
}
