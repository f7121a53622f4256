namespace Sluice.Efficiency.Runners;

/// <summary>
/// The innermost handler of every row's client: counts each attempt that goes on the wire, so retries are counted
/// the same way for Sluice and the baselines (attempts − requests), whoever decided to retry.
/// </summary>
internal sealed class AttemptCounter(ClientTally tally) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        tally.CountAttempt();
        return base.SendAsync(request, cancellationToken);
    }
}
