using System.Net;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// The blog post's hand-rolled queue, ported faithfully: 5 workers take posts from a queue; on a 429 a worker sleeps
/// 2^(n+1) s plus up to 1 s of random jitter (n = retries so far: 2, 4, 8 s) while holding its place, and tries
/// again, at most 3 times; after the third retry the post is lost. It retries nothing but 429 (docs: DESIGN.md), so a
/// 5xx, a reset, a malformed body or a timeout loses the post at once. The client is a plain <see cref="HttpClient"/>
/// with its default 100 s timeout.
/// </summary>
internal sealed class BlogAlgorithmRunner : Runner
{
    private const int Workers = 5;
    private const int MaxRetries = 3;

    public override string Key => "blog";

    public override string DisplayName => "blog algorithm (5 workers)";

    public override async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var http = new HttpClient(new AttemptCounter(context.Tally) { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = context.BaseUrl,
        };
        var bodies = context.Workload.Bodies;
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => WorkAsync(new Random(context.Seed + worker)))).ConfigureAwait(false);

        async Task WorkAsync(Random random)
        {
            for (int i = Interlocked.Increment(ref next); i < bodies.Count; i = Interlocked.Increment(ref next))
            {
                context.Tally.CountEnd(await PostAsync(i, random).ConfigureAwait(false));
            }
        }

        // Null when the post was analysed, else why it was lost.
        async Task<string?> PostAsync(int i, Random random)
        {
            for (int retry = 0; ; retry++)
            {
                try
                {
                    using var request = Replies.Request(bodies[i], i);
                    using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                    if (response.StatusCode != HttpStatusCode.TooManyRequests)
                    {
                        return await Replies.ProblemAsync(response, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException
                    || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    return Replies.Problem(exception);
                }

                if (retry == MaxRetries)
                {
                    return "HTTP 429 after 3 retries";
                }

                var sleep = TimeSpan.FromSeconds(Math.Pow(2, retry + 1) + random.NextDouble());
                await Task.Delay(sleep, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
