using System.ComponentModel.DataAnnotations;

namespace Sluice.Dispatch;

/// <summary>How <see cref="SluiceDispatcher.RunAllAsync"/> consumes its input and orders its results.</summary>
public sealed class DispatchStreamOptions
{
    /// <summary>
    /// The most jobs taken from the input and not yet delivered: waiting, in flight, waiting to retry, or (in input
    /// order) completed but held for an earlier job. Bounds memory whatever the input's length.
    /// </summary>
    /// <value>Defaults to 1,000.</value>
    [Range(1, 10_000_000)]
    public int MaxInProgress { get; set; } = 1_000;

    /// <summary>Deliver results in input order instead of completion order, holding at most <see cref="MaxInProgress"/>.</summary>
    /// <value>Defaults to <see langword="false"/>: completion order.</value>
    public bool PreserveOrder { get; set; }
}
