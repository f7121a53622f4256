using System.Diagnostics.Metrics;
using Sluice.Gate;

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

    /// <param name="meterFactory">Where the meter comes from; a private one when null.</param>
    /// <param name="partitions">The gate's partitions now, for the gauges of learned limits.</param>
    public SluiceMetrics(IMeterFactory? meterFactory, Func<IEnumerable<PartitionSnapshot>> partitions)
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
        Hedged = meter.CreateCounter<long>("sluice.attempt.hedged", "{attempt}", "Second tries started beside a slow one while the partition had room.");
        AttemptDuration = meter.CreateHistogram<double>("sluice.attempt.duration", "s", "Duration of one attempt, by outcome.");
        JobsCompleted = meter.CreateCounter<long>("sluice.job.completed", "{job}", "Jobs that ended, by status.");
        JobsFailed = meter.CreateCounter<long>("sluice.job.failed", "{job}", "Jobs that failed for good, by reason.");

        // The limits in force, learned or configured: observed when a collector asks, never pushed on the hot path.
        meter.CreateObservableGauge(
            "sluice.partition.concurrency_limit",
            () => Gauge(partitions(), s => s.ConcurrencyLimit),
            "{request}",
            "The concurrency limit in force (learned when adaptive).");
        meter.CreateObservableGauge(
            "sluice.partition.request_budget",
            () => Gauge(partitions(), s => s.RequestsPerMinute),
            "{request}/min",
            "The request budget in force: configured, stated by the provider's headers, or learned from 429s.");
        meter.CreateObservableGauge(
            "sluice.partition.token_budget",
            () => Gauge(partitions(), s => s.TokensPerMinute),
            "{token}/min",
            "The token budget in force: configured or stated by the provider's headers.");
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

    public Counter<long> Hedged { get; }

    public Histogram<double> AttemptDuration { get; }

    public Counter<long> JobsCompleted { get; }

    public Counter<long> JobsFailed { get; }

    public void Dispose() => _ownedMeter?.Dispose();

    private static IEnumerable<Measurement<double>> Gauge(IEnumerable<PartitionSnapshot> partitions, Func<PartitionSnapshot, double?> value)
    {
        foreach (var snapshot in partitions)
        {
            if (value(snapshot) is { } measured)
            {
                yield return new Measurement<double>(measured, new KeyValuePair<string, object?>(PartitionTag, snapshot.Key));
            }
        }
    }
}
