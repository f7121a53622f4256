namespace Sluice.Cli.BatchApi;

/// <summary>The options of <c>sluice run --via batch-api</c> beside the run's own.</summary>
/// <param name="PollInterval">The first wait between polls of the batches; it doubles while nothing ends, up to <see cref="MaxPollInterval"/>.</param>
/// <param name="MaxEnqueuedTokens">The account's enqueued-token limit per model, when known: no part holds more, and a model's parts in progress together stay under it.</param>
internal sealed record BatchApiOptions(TimeSpan PollInterval, long? MaxEnqueuedTokens)
{
    /// <summary><c>--poll-interval</c>'s default.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between polls: sixteen first intervals, and never over 10 minutes unless the first is.</summary>
    public TimeSpan MaxPollInterval => TimeSpan.FromTicks(Math.Max(PollInterval.Ticks, Math.Min(PollInterval.Ticks * 16, TimeSpan.FromMinutes(10).Ticks)));

    /// <summary>The wait after <paramref name="previous"/>: doubled while nothing ended, back to the first once something did.</summary>
    public TimeSpan NextPoll(TimeSpan previous, bool somethingEnded) =>
        somethingEnded ? PollInterval : TimeSpan.FromTicks(Math.Min(previous.Ticks * 2, MaxPollInterval.Ticks));
}
