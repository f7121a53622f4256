using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// The baseline a .NET developer writes today: <see cref="Parallel.ForEachAsync{TSource}(IEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/>
/// over a factory-made <see cref="HttpClient"/> with <c>AddStandardResilienceHandler()</c> at its defaults (retry 3
/// times on 408, 429, 5xx, HttpRequestException and timeouts, exponential backoff from 2 s with jitter, Retry-After
/// honoured; circuit breaker at a 10% failure ratio over 30 s, at least 100 calls, open 5 s; 10 s attempt timeout;
/// 30 s total timeout; a 1,000-permit concurrency limiter). A request whose final answer is not a well-formed 2xx,
/// or that throws, is lost — that is what the developer's loop would log and move past.
/// </summary>
internal sealed class ParallelResilienceRunner(int maxDegreeOfParallelism) : Runner
{
    /// <summary>
    /// The parallelism when none is given: <see cref="Parallel.ForEachAsync{TSource}(IEnumerable{TSource}, Func{TSource, CancellationToken, ValueTask})"/>
    /// defaults to <see cref="Environment.ProcessorCount"/>, and 16 is that number on a typical developer
    /// workstation. A fixed figure keeps the row independent of the (2-core) machine the benchmark runs on.
    /// </summary>
    public const int DefaultParallelism = 16;

    public override string Key => "parallel-resilience";

    public override string DisplayName => $"Parallel.ForEachAsync({maxDegreeOfParallelism}) + standard resilience";

    public override async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = new ServiceCollection();
        var client = services.AddHttpClient("baseline", client => client.BaseAddress = context.BaseUrl);
        client.AddStandardResilienceHandler();
        // Added after the resilience handler, so inside it: it counts every attempt the handler makes.
        client.AddHttpMessageHandler(() => new AttemptCounter(context.Tally));
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("baseline");
        var bodies = context.Workload.Bodies;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, bodies.Count),
            new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                try
                {
                    using var request = Replies.Request(bodies[i], i);
                    using var response = await http.SendAsync(request, token).ConfigureAwait(false);
                    context.Tally.CountEnd(await Replies.ProblemAsync(response, token).ConfigureAwait(false));
                }
                catch (Exception exception) when (exception is HttpRequestException or IOException or BrokenCircuitException or TimeoutRejectedException
                    || (exception is OperationCanceledException && !token.IsCancellationRequested))
                {
                    // Logged and skipped in the developer's loop: lost.
                    context.Tally.CountEnd(Replies.Problem(exception));
                }
            }).ConfigureAwait(false);
    }
}
