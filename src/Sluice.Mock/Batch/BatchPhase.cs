namespace Sluice.Mock.Batch;

/// <summary>Where a batch is in its lifecycle; each provider names these its own way (see the JSON writers).</summary>
internal enum BatchPhase
{
    Validating,
    InProgress,
    Finalizing,
    Completed,
    Failed,
    Expired,
    Cancelling,
    Cancelled,
}
