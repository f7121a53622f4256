using Sluice.Dispatch;

namespace Sluice.Providers;

/// <summary>
/// What an answer means, decided by a <see cref="ProviderProfile"/>: its outcome class, a sentence for people, how long
/// the provider asked to wait, and the provider's own name for the error.
/// </summary>
/// <param name="Kind">The outcome class (DESIGN.md's table).</param>
/// <param name="Error">
/// For a failure, the status, code and the provider's own message (truncated to about 300 characters, credentials
/// redacted, never a header value); empty for a success.
/// </param>
/// <param name="RetryAfter">
/// For throttled and transient answers, the wait the provider asked for (headers first, then the exhausted budget's
/// reset, then the message's "try again in …"); <see langword="null"/> leaves the wait to the backoff.
/// </param>
/// <param name="ProviderCode">The provider's <c>error.code</c> or <c>error.type</c>, such as <c>insufficient_quota</c>.</param>
internal readonly record struct Classification(AttemptOutcomeKind Kind, string Error, TimeSpan? RetryAfter, string? ProviderCode);
