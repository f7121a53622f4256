// The blog post's job, done with Sluice's library: 500 posts analysed through a rate-limited API.
// It starts the built-in mock in-process (1,500 requests a minute = 25 a second, 300 ± 200 ms per answer),
// sends every request through a gate that knows the budget, and prints what happened. Offline; no API key.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Mock;

const int Posts = 500;
const int RequestsPerMinute = 1_500;

await using var mock = await MockServer.StartAsync(new MockOptions
{
    Limits = new MockLimits { RequestsPerMinute = RequestsPerMinute },
    Latency = TimeSpan.FromMilliseconds(300),
    LatencyJitter = TimeSpan.FromMilliseconds(200),
    Seed = 17,
});
using var http = new HttpClient { BaseAddress = mock.BaseUrl, Timeout = Timeout.InfiniteTimeSpan };
using var gate = SluiceGate.Create(new GateOptions
{
    // The budget is known here; the concurrency is not: it is learned from the answers, up to 64.
    DefaultLimits = new PartitionLimits { RequestsPerWindow = RequestsPerMinute, MaxConcurrency = 64, AdaptiveConcurrency = true },
});
using var dispatcher = SluiceDispatcher.Create(gate, new DispatcherOptions { AttemptTimeout = TimeSpan.FromSeconds(30) });

Console.WriteLine($"Analysing {Posts} posts through the mock at {mock.BaseUrl} ({RequestsPerMinute} requests a minute)...");
long started = TimeProvider.System.GetTimestamp();
int succeeded = 0, failed = 0, throttles = 0, retries = 0;

await foreach (var result in dispatcher.RunAllAsync(PostsAsync(), Describe, AnalyseAsync))
{
    if (result.IsSuccess)
    {
        succeeded++;
    }
    else
    {
        failed++;
        Console.WriteLine($"  {result.Job.Id}: {result.Status} {result.Reason}: {result.Error}");
    }

    throttles += result.Throttles;
    retries += Math.Max(0, result.Attempts - 1);
    if ((succeeded + failed) % 100 == 0)
    {
        Console.WriteLine($"  {succeeded + failed}/{Posts} done");
    }
}

var elapsed = TimeProvider.System.GetElapsedTime(started);
var stats = mock.GetStats();
double ideal = Posts / (RequestsPerMinute / 60.0);
Console.WriteLine();
Console.WriteLine($"succeeded {succeeded}, failed {failed}, lost {Posts - succeeded - failed}");
Console.WriteLine($"time {elapsed.TotalSeconds:F1} s; the budget allows it in {ideal:F1} s plus one answer's latency");
Console.WriteLine($"429s seen {throttles}, retries {retries}; the mock's own budget audit found {stats.BudgetViolations.Requests} violations");
return failed == 0 ? 0 : 1;

static SluiceJob Describe(int post) => new($"post-{post}", "mock|gpt-4o-mini");

async ValueTask<AttemptOutcome<string>> AnalyseAsync(int post, AttemptContext attempt, CancellationToken cancellationToken)
{
    using var response = await http.PostAsJsonAsync(
        "v1/chat/completions",
        new
        {
            model = "gpt-4o-mini",
            max_tokens = 50,
            messages = new[] { new { role = "user", content = $"Summarise blog post {post} in one sentence." } },
        },
        cancellationToken);
    string body = await response.Content.ReadAsStringAsync(cancellationToken);
    var retryAfter = response.Headers.RetryAfter?.Delta;
    return response.StatusCode switch
    {
        HttpStatusCode.OK => AttemptOutcome.Success(JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"]!.GetValue<string>()),
        HttpStatusCode.TooManyRequests => AttemptOutcome.Throttled(retryAfter, body, body),
        HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => AttemptOutcome.Overloaded(body, retryAfter, body),
        >= HttpStatusCode.InternalServerError => AttemptOutcome.Transient(body, retryAfter, body),
        _ => AttemptOutcome.Permanent($"HTTP {(int)response.StatusCode}", body),
    };
}

static async IAsyncEnumerable<int> PostsAsync()
{
    for (int post = 1; post <= Posts; post++)
    {
        yield return post;
        await Task.CompletedTask;
    }
}
