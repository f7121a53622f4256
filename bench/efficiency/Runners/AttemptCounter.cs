namespace Sluice.Efficiency.Runners;

/// <summary>
/// The innermost handler of every row's client: counts each attempt that goes on the wire, by the request's
/// <c>X-Sluice-Custom-Id</c>, so retries are counted the same way for Sluice and the baselines, whoever retried.
/// </summary>
internal sealed class AttemptCounter(ClientTally tally) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        tally.CountAttempt(request.Headers.TryGetValues(Replies.RequestIdHeader, out var ids) ? ids.First() : "");
        return base.SendAsync(request, cancellationToken);
    }
}
