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
}
