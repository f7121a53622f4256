namespace Sluice.Dispatch;

/// <summary>
/// What one attempt produced: a value with its class. A failed attempt is a value, not an exception; the dispatcher
/// acts on <see cref="Kind"/>. Make instances with the factory methods of <see cref="AttemptOutcome"/>.
/// </summary>
/// <typeparam name="T">The attempt's result, such as a response; failures may carry one too (the provider's error body).</typeparam>
public readonly record struct AttemptOutcome<T>
{
    /// <summary>The class of the answer.</summary>
    public AttemptOutcomeKind Kind { get; init; }

    /// <summary>The result, or for a failure the last response when there was one.</summary>
    public T? Value { get; init; }

    /// <summary>Actual tokens used, to settle the reservation; <see langword="null"/> keeps the estimate.</summary>
    public long? ActualTokens { get; init; }

    /// <summary>Actual input (prompt) tokens, to settle the input-token reservation; <see langword="null"/> keeps the estimate.</summary>
    public long? ActualInputTokens { get; init; }

    /// <summary>Actual output tokens, to settle the output-token reservation; <see langword="null"/> keeps the output cap.</summary>
    public long? ActualOutputTokens { get; init; }

    /// <summary>How long the provider asked to wait (Retry-After), for throttled and transient outcomes.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>What went wrong, for people; <see langword="null"/> on success.</summary>
    public string? Error { get; init; }

    /// <summary>The exception behind a failure, when there was one.</summary>
    public Exception? Exception { get; init; }

    /// <summary>
    /// For a transient failure: the upstream said it is overloaded (503, 504) or did not answer in time, so adaptive
    /// concurrency backs off. Throttled outcomes always count as such a signal; other failures (a plain 500, a reset
    /// connection) do not.
    /// </summary>
    public bool Overloaded { get; init; }

    /// <summary>
    /// For a permanent outcome: the try was never sent because a spend cap refused its worst case. The job ends
    /// <see cref="JobEndReason.SpendCapReached"/> (not completed, never retried) and the try counts as no attempt.
    /// </summary>
    internal bool SpendCapReached { get; init; }
}

/// <summary>Factory methods for <see cref="AttemptOutcome{T}"/>.</summary>
public static class AttemptOutcome
{
    /// <summary>The work succeeded.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="value">The result.</param>
    /// <param name="actualTokens">Tokens actually used, when known.</param>
    /// <returns>A success.</returns>
    public static AttemptOutcome<T> Success<T>(T value, long? actualTokens = null) =>
        new() { Kind = AttemptOutcomeKind.Success, Value = value, ActualTokens = actualTokens };

    /// <summary>The provider throttled the attempt; the partition pauses for <paramref name="retryAfter"/> (or a backoff when absent).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="retryAfter">The provider's Retry-After.</param>
    /// <param name="error">What the provider said.</param>
    /// <param name="value">The throttled response, if any.</param>
    /// <returns>A throttled outcome.</returns>
    public static AttemptOutcome<T> Throttled<T>(TimeSpan? retryAfter = null, string? error = null, T? value = default) =>
        new() { Kind = AttemptOutcomeKind.Throttled, RetryAfter = retryAfter, Error = error ?? "throttled by the provider", Value = value };

    /// <summary>A failure worth retrying.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="error">What went wrong.</param>
    /// <param name="retryAfter">A delay the provider asked for, which wins over the backoff.</param>
    /// <param name="value">The failed response, if any.</param>
    /// <param name="exception">The exception behind it, if any.</param>
    /// <returns>A transient failure.</returns>
    public static AttemptOutcome<T> Transient<T>(string error, TimeSpan? retryAfter = null, T? value = default, Exception? exception = null) =>
        new() { Kind = AttemptOutcomeKind.Transient, Error = error, RetryAfter = retryAfter, Value = value, Exception = exception };

    /// <summary>The upstream is overloaded (503, 504, a timeout): retried like <see cref="Transient"/>, and adaptive concurrency backs off.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="error">What went wrong.</param>
    /// <param name="retryAfter">A delay the provider asked for, which wins over the backoff.</param>
    /// <param name="value">The failed response, if any.</param>
    /// <param name="exception">The exception behind it, if any.</param>
    /// <returns>A transient failure marked <see cref="AttemptOutcome{T}.Overloaded"/>.</returns>
    public static AttemptOutcome<T> Overloaded<T>(string error, TimeSpan? retryAfter = null, T? value = default, Exception? exception = null) =>
        new() { Kind = AttemptOutcomeKind.Transient, Error = error, RetryAfter = retryAfter, Value = value, Exception = exception, Overloaded = true };

    /// <summary>A failure that retrying cannot fix.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="error">What went wrong.</param>
    /// <param name="value">The failed response, if any.</param>
    /// <returns>A permanent failure.</returns>
    public static AttemptOutcome<T> Permanent<T>(string error, T? value = default) =>
        new() { Kind = AttemptOutcomeKind.Permanent, Error = error, Value = value };

    /// <summary>The quota or billing limit is used up.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="error">What the provider said.</param>
    /// <param name="value">The failed response, if any.</param>
    /// <returns>A quota outcome.</returns>
    public static AttemptOutcome<T> QuotaExhausted<T>(string error, T? value = default) =>
        new() { Kind = AttemptOutcomeKind.QuotaExhausted, Error = error, Value = value };

    /// <summary>The credentials were rejected.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="error">What the provider said (never the credential).</param>
    /// <param name="value">The failed response, if any.</param>
    /// <returns>An auth outcome.</returns>
    public static AttemptOutcome<T> AuthFailed<T>(string error, T? value = default) =>
        new() { Kind = AttemptOutcomeKind.AuthFailed, Error = error, Value = value };
}
