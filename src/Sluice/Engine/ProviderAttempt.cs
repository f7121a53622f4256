using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// One try at a provider request, the engine's only way of sending: send, feed the rate-limit headers back to the
/// partition, classify the answer with the provider profile (the headers read once for both), and settle the token
/// reservation with the actual usage. A 2xx stream is handed back at once, keeping the concurrency slot until its body
/// ends; anything else is read whole (and rebuffered) so it can be classified. A rejected credential may be refreshed
/// and resent once, within the same try.
/// </summary>
internal sealed class ProviderAttempt(ProviderProfile profile, TimeProvider time)
{
    /// <summary>Runs one try.</summary>
    /// <param name="send">Sends one message: the engine's transport, or a handler's inner handler.</param>
    /// <param name="request">The captured request; each send gets a fresh message made from it.</param>
    /// <param name="attempt">The dispatcher's context: partition and lease.</param>
    /// <param name="refreshCredential">Called once after an auth failure; true when the request should be sent again.</param>
    /// <param name="onStop">Called with the answer (and its body) that stops the partition: quota or auth.</param>
    /// <param name="streamEnded">For a 2xx stream: told its usage, and whether it ended whole, when its body ends.</param>
    /// <param name="cancellationToken">Cancels the try.</param>
    /// <returns>The outcome, whose value is the provider's reply (buffered unless it is a 2xx stream).</returns>
    public async ValueTask<AttemptOutcome<ProviderReply>> SendAsync(
        Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send,
        SluiceRequest request,
        AttemptContext attempt,
        Func<CancellationToken, ValueTask<bool>>? refreshCredential,
        Action<HttpResponseMessage, byte[]>? onStop,
        Action<TokenUsage, bool>? streamEnded,
        CancellationToken cancellationToken)
    {
        bool refreshed = false;
        while (true)
        {
            HttpResponseMessage response;
            try
            {
                using var message = request.CreateMessage();
                response = await send(message, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException exception)
            {
                return AttemptOutcome.Transient<ProviderReply>($"connection failed: {exception.Message}", exception: exception);
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                return AttemptOutcome.Overloaded<ProviderReply>("the request timed out", exception: exception);
            }

            var now = time.GetUtcNow();
            var limits = RateLimitHeaders.Parse(response.Headers, now);
            ObserveRateLimits(attempt, limits);
            int status = (int)response.StatusCode;
            if (request.IsStreaming && status is >= 200 and < 300)
            {
                response.Content = new WatchedStreamContent(response.Content, attempt.TakeLease(), profile, streamEnded);
                return AttemptOutcome.Success(new ProviderReply(response, null, default));
            }

            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException)
            {
                response.Dispose();
                return AttemptOutcome.Transient<ProviderReply>($"the response was cut: {exception.Message}", exception: exception);
            }
            catch (OperationCanceledException exception)
            {
                // Cut while the body arrived: this answer goes nowhere, so it is let go here, never left open.
                response.Dispose();
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                return AttemptOutcome.Overloaded<ProviderReply>("the response timed out", exception: exception);
            }

            ContentHeaders.Rebuffer(response, body);
            var verdict = profile.Classify(status, limits, response.Content.Headers.ContentType?.MediaType, body, now);
            if (verdict.Kind == AttemptOutcomeKind.AuthFailed && !refreshed && refreshCredential is not null)
            {
                refreshed = true;
                if (await refreshCredential(cancellationToken).ConfigureAwait(false))
                {
                    response.Dispose();
                    continue;
                }
            }

            if (verdict.Kind is AttemptOutcomeKind.QuotaExhausted or AttemptOutcomeKind.AuthFailed)
            {
                onStop?.Invoke(response, body);
            }

            var usage = verdict.Kind == AttemptOutcomeKind.Success ? UsageReader.Read(body) : default;
            var settled = verdict.Kind == AttemptOutcomeKind.Success ? profile.Settlement(attempt.Lease, usage) : default;
            return new AttemptOutcome<ProviderReply>
            {
                Kind = verdict.Kind,
                Value = new ProviderReply(response, verdict.ProviderCode, usage),
                Error = verdict.Error,
                RetryAfter = verdict.RetryAfter,
                Overloaded = verdict.Kind == AttemptOutcomeKind.Transient && status is 503 or 504,
                ActualTokens = settled.Total,
                ActualInputTokens = settled.Input,
                ActualOutputTokens = settled.Output,
            };
        }
    }

    /// <summary>
    /// Feeds every budget the headers describe to its own dimension. Anthropic's <c>tokens-*</c> headers repeat
    /// whichever of its input and output budgets is most restrictive at the moment, not a budget of their own, so
    /// they are taken as a total only where no input or output budget is stated.
    /// </summary>
    private static void ObserveRateLimits(AttemptContext attempt, RateLimitInfo limits)
    {
        Observe(attempt, BudgetDimension.Requests, limits.Requests);
        Observe(attempt, BudgetDimension.InputTokens, limits.InputTokens);
        Observe(attempt, BudgetDimension.OutputTokens, limits.OutputTokens);
        if (limits.InputTokens.IsEmpty && limits.OutputTokens.IsEmpty)
        {
            Observe(attempt, BudgetDimension.Tokens, limits.Tokens);
        }

        Observe(attempt, BudgetDimension.RequestsPerDay, limits.RequestsPerDay);
        Observe(attempt, BudgetDimension.TokensPerDay, limits.TokensPerDay);
        attempt.Partition.HeadersObserved();
    }

    private static void Observe(AttemptContext attempt, BudgetDimension dimension, BudgetHeader budget)
    {
        if (budget is { Remaining: { } remaining, ResetAt: { } resetAt })
        {
            attempt.Partition.ObserveAnswerBudget(dimension, remaining, resetAt, budget.Limit, attempt.Lease);
        }
    }
}
