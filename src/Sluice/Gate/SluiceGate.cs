using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Sluice.Gate;

/// <summary>
/// Decides when requests may start: one <see cref="GatePartition"/> per partition key (an upstream, a credential and
/// a model group), each with its own concurrency, request and token budgets. Partitions are made on first use, at most
/// <see cref="GateOptions.MaxPartitions"/> at once, and removed once idle (<see cref="GateOptions.PartitionIdleTimeout"/>).
/// </summary>
/// <remarks>
/// A contract: <see cref="Create"/> makes the gate whose partitions live in this process; another gate derives from
/// this class, makes its own <see cref="GatePartition"/>s, and passes the clock they run on to the constructor.
/// </remarks>
public abstract class SluiceGate : IDisposable
{
    /// <summary>Initialises a gate.</summary>
    /// <param name="timeProvider">The clock its partitions run on (lease timestamps are this clock's); <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="meterFactory">Where the gate's and its dispatchers' metrics go; a private <c>Sluice</c> meter when null.</param>
    protected SluiceGate(TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null)
    {
        Time = timeProvider ?? TimeProvider.System;
        Metrics = new Telemetry.SluiceMetrics(meterFactory, () => Partitions.Select(p => p.GetSnapshot()));
    }

    /// <summary>The clock every partition of this gate, and every dispatcher over it, runs on.</summary>
    internal TimeProvider Time { get; }

    /// <summary>The instruments of this gate, shared with dispatchers over it.</summary>
    internal Telemetry.SluiceMetrics Metrics { get; }

    /// <summary>
    /// Raised with the key of each partition the gate removed (idle past <see cref="GateOptions.PartitionIdleTimeout"/>),
    /// so that what is kept beside it (a dispatcher's or an engine's per-partition state) goes with it.
    /// </summary>
    internal event Action<string>? PartitionEvicted;

    /// <summary>Every partition held now (an idle one is removed after <see cref="GateOptions.PartitionIdleTimeout"/>).</summary>
    public abstract IReadOnlyCollection<GatePartition> Partitions { get; }

    /// <summary>Creates an in-process gate.</summary>
    /// <param name="options">Partition limits; validated (every error reported at once) and copied.</param>
    /// <param name="timeProvider">The clock and timers; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="meterFactory">Where metrics go; a private <c>Sluice</c> meter when null.</param>
    /// <returns>A gate.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some limits are invalid.</exception>
    public static SluiceGate Create(
        GateOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null) =>
        new LocalGate(options ?? new GateOptions(), timeProvider ?? TimeProvider.System, loggerFactory, meterFactory);

    /// <summary>
    /// The partition for <paramref name="key"/>, made on first use with its configured or default limits. When the gate
    /// already holds <see cref="GateOptions.MaxPartitions"/> partitions and none is idle, a stopped partition (keyed
    /// <c>(partition limit)</c>, not <paramref name="key"/>) that rejects every caller with the reason.
    /// </summary>
    /// <param name="key">A key the caller chooses, such as <c>api.openai.com|key:3f2a…|gpt-4o</c>. Never put a credential in it: it appears in logs and metrics.</param>
    /// <returns>The partition.</returns>
    public abstract GatePartition GetPartition(string key);

    /// <summary>Stops every partition's timer and the gate's metrics.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        Metrics.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Tells <see cref="PartitionEvicted"/>'s subscribers that a partition was removed.</summary>
    /// <param name="key">The removed partition's key.</param>
    protected void OnPartitionEvicted(string key) => PartitionEvicted?.Invoke(key);

    /// <summary>Releases the implementation's resources (the gate's metrics are disposed after this).</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);
}
