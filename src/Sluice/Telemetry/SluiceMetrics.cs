using System.Diagnostics.Metrics;

namespace Sluice.Telemetry;

/// <summary>
/// Every instrument of the <c>Sluice</c> meter. One instance per gate; the dispatcher uses its gate's. Tags name the
/// partition (<c>sluice.partition</c>), never a credential.
/// </summary>
internal sealed class SluiceMetrics : IDisposable
{
    public const string MeterName = "Sluice";
    public const string PartitionTag = "sluice.partition";

    private readonly Meter? _ownedMeter;

    public SluiceMetrics(IMeterFactory? meterFactory)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter(MeterName, SluiceTelemetry.Version);
        }
        else
        {
            meter = meterFactory.Create(new MeterOptions(MeterName) { Version = SluiceTelemetry.Version });
        }

        Queued = meter.CreateUpDownCounter<int>("sluice.gate.queued", "{request}", "Callers waiting at a gate.");
        InFlight = meter.CreateUpDownCounter<int>("sluice.gate.in_flight", "{request}", "Admitted leases not yet released.");
        Admitted = meter.CreateCounter<long>("sluice.gate.admitted", "{request}", "Callers admitted by a gate.");
        Rejected = meter.CreateCounter<long>("sluice.gate.rejected", "{request}", "Callers rejected by a gate, by reason.");
        WaitTime = meter.CreateHistogram<double>("sluice.gate.wait_time", "s", "Time from arrival at a gate to admission.");
        Pauses = meter.CreateCounter<long>("sluice.gate.pauses", "{pause}", "Pauses of a partition for a provider's Retry-After.");
        TokensReserved = meter.CreateCounter<long>("sluice.gate.tokens.reserved", "{token}", "Estimated tokens reserved at admission.");
        TokensSettled = meter.CreateCounter<long>("sluice.gate.tokens.settled", "{token}", "Actual tokens reported when leases settle.");
        Throttled = meter.CreateCounter<long>("sluice.attempt.throttled", "{attempt}", "Attempts the provider throttled (429, 529).");
        Retried = meter.CreateCounter<long>("sluice.attempt.retried", "{attempt}", "Attempts scheduled again after a transient failure.");
        AttemptDuration = meter.CreateHistogram<double>("sluice.attempt.duration", "s", "Duration of one attempt, by outcome.");
        JobsCompleted = meter.CreateCounter<long>("sluice.job.completed", "{job}", "Jobs that ended, by status.");
        JobsFailed = meter.CreateCounter<long>("sluice.job.failed", "{job}", "Jobs that failed for good, by reason.");
    }

    public UpDownCounter<int> Queued { get; }

    public UpDownCounter<int> InFlight { get; }

    public Counter<long> Admitted { get; }

    public Counter<long> Rejected { get; }

    public Histogram<double> WaitTime { get; }

    public Counter<long> Pauses { get; }

    public Counter<long> TokensReserved { get; }

    public Counter<long> TokensSettled { get; }

    public Counter<long> Throttled { get; }

    public Counter<long> Retried { get; }

    public Histogram<double> AttemptDuration { get; }

    public Counter<long> JobsCompleted { get; }

    public Counter<long> JobsFailed { get; }

    public void Dispose() => _ownedMeter?.Dispose();
}
