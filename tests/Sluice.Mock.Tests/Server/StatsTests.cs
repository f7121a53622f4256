using System.Net;
using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

public class StatsTests
{
    [Fact]
    public async Task Stats_CountReceivedAcceptedRejectedAndTokens()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 3, Burst = TimeSpan.FromMinutes(1) });

        for (var i = 0; i < 5; i++)
        {
            using var response = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 10));
        }

        using (await mock.SendAsync(RunningMock.Raw("v1/chat/completions", "{")))
        {
        }

        var json = await mock.GetJsonAsync("mock/stats");
        Assert.Equal(6, json.GetProperty("received").GetInt64());
        Assert.Equal(3, json.GetProperty("accepted").GetInt64());
        Assert.Equal(3, json.GetProperty("succeeded").GetInt64());
        Assert.Equal(2, json.GetProperty("rejected").GetProperty("rate_limit_requests").GetInt64());
        Assert.Equal(1, json.GetProperty("rejected").GetProperty("invalid_request").GetInt64());
        Assert.Equal(JsonValueKind.Object, json.GetProperty("faults").ValueKind);
        Assert.Equal(33, json.GetProperty("admittedTokens").GetInt64());
        Assert.Equal(3, json.GetProperty("promptTokens").GetInt64());
        Assert.Equal(30, json.GetProperty("completionTokens").GetInt64());
        Assert.Equal(0, json.GetProperty("inFlight").GetInt32());
        Assert.Equal(0, json.GetProperty("budgetViolations").GetProperty("total").GetInt64());
        Assert.Equal(3, json.GetProperty("limits").GetProperty("rpm").GetInt32());
        Assert.Equal("1m0s", json.GetProperty("limits").GetProperty("burst").GetString());
    }

    [Fact]
    public async Task Stats_CountRequestIdsAndCustomIds_ToRevealDuplicates()
    {
        await using var mock = await RunningMock.StartAsync();

        foreach (var (requestId, customId) in new[] { ("a", "c1"), ("a", "c1"), ("b", null) })
        {
            var request = RunningMock.Chat();
            request.Headers.Add("X-Request-Id", requestId);
            if (customId is not null)
            {
                request.Headers.Add("X-Sluice-Custom-Id", customId);
            }

            using var response = await mock.SendAsync(request);
        }

        using (await mock.SendAsync(RunningMock.Post("v1/chat/completions", new
        {
            model = "gpt-4o-mini",
            messages = new[] { new { role = "user", content = "Hi" } },
            metadata = new { custom_id = "c2" },
        })))
        {
        }

        var json = await mock.GetJsonAsync("mock/stats");
        var requestIds = json.GetProperty("requestIds");
        Assert.Equal(3, requestIds.GetProperty("total").GetInt64());
        Assert.Equal(2, requestIds.GetProperty("distinct").GetInt32());
        Assert.Equal(1, requestIds.GetProperty("duplicates").GetInt64());
        Assert.Equal(2, requestIds.GetProperty("counts").GetProperty("a").GetInt32());
        var customIds = json.GetProperty("customIds");
        Assert.Equal(3, customIds.GetProperty("total").GetInt64());
        Assert.Equal(2, customIds.GetProperty("counts").GetProperty("c1").GetInt32());
        Assert.Equal(1, customIds.GetProperty("counts").GetProperty("c2").GetInt32());
        Assert.Equal(1, customIds.GetProperty("duplicateSuccesses").GetInt32());
    }

    [Fact]
    public async Task Reset_ZeroesTheStats_RefillsTheBuckets_AndRepeatsTheRun()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 1 });
        using var first = await mock.SendAsync(RunningMock.Chat());
        using var throttled = await mock.SendAsync(RunningMock.Chat());
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);

        using var reset = await mock.SendAsync(RunningMock.Raw("mock/reset", ""));
        var afterReset = mock.Server.GetStats();
        using var again = await mock.SendAsync(RunningMock.Chat());

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(0, afterReset.Received);
        Assert.Empty(afterReset.Rejected);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(first.Header("x-request-id"), again.Header("x-request-id"));
        Assert.Equal(await first.Content.ReadAsStringAsync().Within(), await again.Content.ReadAsStringAsync().Within());
        Assert.Equal(1, mock.Server.Limits.RequestsPerMinute);
    }

    [Fact]
    public async Task PeakInFlight_CountsRequestsHandledAtOnce()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Latency = TimeSpan.FromSeconds(1));

        var requests = Enumerable.Range(0, 3).Select(_ => mock.SendAsync(RunningMock.Chat())).ToList();
        await Bounded.UntilAsync(() => mock.Server.GetStats().InFlight == 3);
        var responses = await mock.Time!.AdvanceUntilDoneAsync(Task.WhenAll(requests), TimeSpan.FromSeconds(1));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var stats = mock.Server.GetStats();
        Assert.Equal(3, stats.PeakInFlight);
        Assert.Equal(3, stats.PeakAdmittedInFlight);
        Assert.Equal(0, stats.InFlight);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task BudgetAudit_FindsNoViolation_UnderConcurrentLoadAtTheLimit()
    {
        await using var mock = await RunningMock.StartOnRealTimeAsync(o =>
        {
            o.Limits = new MockLimits { RequestsPerMinute = 1200, TokensPerMinute = 60_000, MaxConcurrency = 6 };
            o.AuditWindow = TimeSpan.FromSeconds(1);
            o.Latency = TimeSpan.FromMilliseconds(5);
        });
        var started = TimeProvider.System.GetTimestamp();
        var duration = TimeSpan.FromSeconds(1.5);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            while (TimeProvider.System.GetElapsedTime(started) < duration)
            {
                using var response = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 20 + worker));
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {response.StatusCode}");
            }
        })).Within();
        var elapsed = TimeProvider.System.GetElapsedTime(started);

        var stats = mock.Server.GetStats();
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.True(stats.Rejected.Values.Sum() > 0, "the load never reached the limits");
        // Independently of the audit: one burst (20 requests) plus 20 a second, at most.
        Assert.InRange(stats.Accepted, 1, 20 + (20 * elapsed.TotalSeconds) + 1);
        Assert.InRange(stats.PeakAdmittedInFlight, 1, 6);
        Assert.False(stats.Rejected.ContainsKey("mock_error"));
    }
}
