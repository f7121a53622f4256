namespace Sluice.Gate;

/// <summary>One tenant of a partition at one instant (<see cref="PartitionSnapshot.Tenants"/>).</summary>
/// <param name="Name">The tenant's name.</param>
/// <param name="Weight">Its weight in force.</param>
/// <param name="InFlight">Its leases admitted and not yet released.</param>
/// <param name="Waiting">Its callers waiting.</param>
public sealed record TenantSnapshot(string Name, double Weight, int InFlight, int Waiting)
{
    /// <summary>Its admissions since the partition first saw it (or last forgot it).</summary>
    public long Admitted { get; init; }

    /// <summary>
    /// Its part, 0 to 1, of the partition's budget use over about the last 10 seconds, exponentially decayed: each
    /// admission counts its fairness cost (its largest share of a budget in force; 1 when none is known).
    /// </summary>
    public double ShareReceived { get; init; }

    /// <summary>
    /// What fair queuing owes it while it waits: its weight over the sum of the weights of the tenants waiting now;
    /// <see langword="null"/> when it has nobody waiting.
    /// </summary>
    public double? ShareDue { get; init; }
}
