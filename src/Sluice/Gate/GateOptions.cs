namespace Sluice.Gate;

/// <summary>How a <see cref="SluiceGate"/> limits its partitions.</summary>
public sealed class GateOptions
{
    /// <summary>Limits for every partition not named in <see cref="Partitions"/>.</summary>
    /// <value>Defaults to <see cref="PartitionLimits"/>' own defaults: 32 in flight, no budgets.</value>
    public PartitionLimits DefaultLimits { get; set; } = new();

    /// <summary>Limits for particular partitions, by key.</summary>
    public IDictionary<string, PartitionLimits> Partitions { get; } = new Dictionary<string, PartitionLimits>(StringComparer.Ordinal);

    /// <summary>
    /// Chooses limits for a partition when it is first used and <see cref="Partitions"/> does not name it — for
    /// example by the model part of the key. Returning <see langword="null"/> means <see cref="DefaultLimits"/>.
    /// What it returns is validated and copied.
    /// </summary>
    public Func<string, PartitionLimits?>? LimitsSelector { get; set; }

    /// <summary>
    /// The most partitions the gate holds at once. Partition keys may come from what callers send (a model name, a
    /// credential), so the table is bounded: once full, a partition idle longer than <see cref="PartitionIdleTimeout"/>
    /// is removed to make room, and if none is, <see cref="SluiceGate.GetPartition"/> returns a stopped partition that
    /// rejects every caller with a message saying why, instead of growing.
    /// </summary>
    /// <value>Defaults to 10,000.</value>
    public int MaxPartitions { get; set; } = DefaultMaxPartitions;

    /// <summary>
    /// How long a partition with nothing in flight, nobody waiting, no pause in force and no caller looking it up is
    /// kept before it is removed (at the next look-up of any partition; the table is swept at most once a minute, or once
    /// every <see cref="PartitionIdleTimeout"/> if shorter: nothing polls). What it
    /// learned (budgets from headers, the adaptive limit, a stop) is learned again if the key comes back.
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps partitions for the gate's life.
    /// </summary>
    /// <value>Defaults to 10 minutes.</value>
    public TimeSpan PartitionIdleTimeout { get; set; } = DefaultPartitionIdleTimeout;

    /// <summary>
    /// How long a waiter waits for its priority to rise by one, so that a steady stream of higher priorities never
    /// starves a lower one. A waiter rises no higher than the highest priority waiting: among its peers, tenants share
    /// by weight, not by age. <see cref="Timeout.InfiniteTimeSpan"/>: strict priorities.
    /// </summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan PriorityAging { get; set; } = DefaultPriorityAging;

    /// <summary>
    /// The most tenants (<see cref="AdmissionRequest.Tenant"/>) a partition tracks. Tenant names may come from what
    /// callers send, so the table is bounded: once full, the tenant unused longest with nothing waiting or in flight
    /// is forgotten to make room, and when every one is busy a new tenant's request is refused
    /// <see cref="GateRejectionReason.QueueFull"/>.
    /// </summary>
    /// <value>Defaults to 1,000.</value>
    public int MaxTenants { get; set; } = DefaultMaxTenants;

    /// <summary>The default of <see cref="PriorityAging"/>.</summary>
    internal static readonly TimeSpan DefaultPriorityAging = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="MaxTenants"/>.</summary>
    internal const int DefaultMaxTenants = 1_000;

    /// <summary>The default of <see cref="MaxPartitions"/>.</summary>
    internal const int DefaultMaxPartitions = 10_000;

    /// <summary>The default of <see cref="PartitionIdleTimeout"/>.</summary>
    internal static readonly TimeSpan DefaultPartitionIdleTimeout = TimeSpan.FromMinutes(10);
}
