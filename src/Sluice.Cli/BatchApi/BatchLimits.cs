namespace Sluice.Cli.BatchApi;

/// <summary>
/// A provider's limits on one batch: requests, the input file's bytes, and (when the user states the account's) the
/// tokens a model may have enqueued at once. A part never exceeds any of them; the enqueued-token budget also holds
/// back a model's next part until earlier parts of that model have ended.
/// </summary>
internal sealed record BatchLimits(int MaxRequests, long MaxBytes, long? MaxEnqueuedTokens);
