using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Sluice.Cli.Proxy;
using Sluice.Dispatch;
using Sluice.Http;
using Sluice.Integration.Tests.Proxy;
using Sluice.Integration.Tests.Support;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Http;

/// <summary>
/// An upstream that answers nothing but 429 with <c>Retry-After: 0</c>, on loopback. Sluice must neither spin on it
/// nor wait past its limits: the throttle floor keeps the tries few, and the deadline (the handler's job deadline, the
/// proxy's <c>--max-wait</c>) ends the request on time with the documented answer.
/// </summary>
public sealed class RetryAfterZeroTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    // The floor's pauses from 50 ms, doubling, sum past two seconds by the sixth: a few more tries allow for the time
    // each round trip takes. Without the floor, such an upstream was asked 179 times in eight seconds.
    private const int MostTries = 12;

    // At least the first try; how many more fit in two seconds is the machine's speed (a busy CI box made one), and
    // what matters here is the bound above and the deadline, not the count of retries.
    private const int FewestTries = 1;

    private static readonly byte[] RateLimited = Encoding.UTF8.GetBytes(
        """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""");

    private static Task<LoopbackServer> StartAlways429Async() => LoopbackServer.StartAsync(http =>
    {
        http.Response.Headers["Retry-After"] = "0";
        return LoopbackServer.WriteAsync(http, 429, "application/json", RateLimited);
    });

    [Fact]
    public async Task Handler_AgainstAnUpstreamThatOnlySays429RetryAfterZero_StopsAtTheDeadline_AfterAFewTries()
    {
        await using var upstream = await StartAlways429Async();
        var options = new SluiceHandlerOptions { Retry = new DispatcherOptions { JobDeadline = Limit } };
        using var client = new HttpClient(new SluiceHandler(options) { InnerHandler = new SocketsHttpHandler() }) { Timeout = LoopbackServer.Bound };
        long started = TimeProvider.System.GetTimestamp();

        var error = await Assert.ThrowsAsync<TaskCanceledException>(() =>
            client.PostAsync(new Uri(upstream.BaseUrl, "v1/chat/completions"), Json("""{"model":"gpt-4o-mini","messages":[]}""")));
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        output.WriteLine($"handler: {upstream.Requests.Count} upstream tries, ended after {elapsed.TotalMilliseconds:0} ms");
        Assert.Contains("DeadlineExceeded", error.Message, StringComparison.Ordinal);
        Assert.InRange(upstream.Requests.Count, FewestTries, MostTries);
        Assert.InRange(elapsed, Limit - TimeSpan.FromMilliseconds(50), LoopbackServer.Bound);
    }

    [Fact]
    public async Task Proxy_AgainstAnUpstreamThatOnlySays429RetryAfterZero_AnswersMaxWaitInTime_AfterAFewTries()
    {
        await using var upstream = await StartAlways429Async();
        var logs = new CapturingLoggerProvider();
        var settings = ProxyFixture.Single(upstream.BaseUrl) with { MaxWait = Limit };
        await using var proxy = await ProxyServer.StartAsync(settings, logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)).WaitAsync(LoopbackServer.Bound);
        using var client = new HttpClient { BaseAddress = proxy.BaseUrl, Timeout = LoopbackServer.Bound };
        long started = TimeProvider.System.GetTimestamp();

        using var answer = await client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-4o-mini","messages":[]}"""));
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        string body = await answer.Content.ReadAsStringAsync();

        output.WriteLine($"proxy: {upstream.Requests.Count} upstream tries, answered after {elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
        // The proxy's own answer, not the upstream's 429 relayed.
        Assert.Equal("max_wait", Assert.Single(answer.Headers.GetValues("x-sluice-error")));
        Assert.StartsWith("""{"error":{"message":"sluice proxy:""", body, StringComparison.Ordinal);
        Assert.InRange(upstream.Requests.Count, FewestTries, MostTries);
        Assert.InRange(elapsed, Limit - TimeSpan.FromMilliseconds(50), LoopbackServer.Bound);
        Assert.DoesNotContain(logs.Lines, line => line.Contains("ObjectDisposedException", StringComparison.Ordinal));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
