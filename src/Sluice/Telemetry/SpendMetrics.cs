using System.Diagnostics.Metrics;

namespace Sluice.Telemetry;

/// <summary>
/// The spend instruments of the <c>Sluice</c> meter: money settled, and money held by tries in flight, by partition
/// (<c>sluice.partition</c>), in US dollars. One instance per engine.
/// </summary>
internal sealed class SpendMetrics : IDisposable
{
    private readonly Meter? _ownedMeter;

    /// <param name="meterFactory">Where the meter comes from; a private one when null.</param>
    /// <param name="reserved">The worst cases held now in each partition's daily cap, for the gauge.</param>
    public SpendMetrics(IMeterFactory? meterFactory, Func<IEnumerable<KeyValuePair<string, decimal>>> reserved)
    {
        var meter = meterFactory is null
            ? _ownedMeter = new Meter(SluiceMetrics.MeterName, SluiceTelemetry.Version)
            : meterFactory.Create(new MeterOptions(SluiceMetrics.MeterName) { Version = SluiceTelemetry.Version });
        Spent = meter.CreateCounter<double>("sluice.spend", "USD", "What tries cost at the provider's list prices, as each settles (a try cut off counts at its worst case).");
        meter.CreateObservableGauge(
            "sluice.spend.reserved",
            () => reserved().Select(r => new Measurement<double>((double)r.Value, new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, r.Key))),
            "USD",
            "Worst cases held by tries in flight against each partition's daily spend cap (MaxSpendPerDay).");
    }

    public Counter<double> Spent { get; }

    public void Dispose() => _ownedMeter?.Dispose();
}
