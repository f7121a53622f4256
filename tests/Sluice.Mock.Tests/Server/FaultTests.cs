using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

public class FaultTests
{
    [Fact]
    public async Task RandomFaults_AppearAtTheirConfiguredRates()
    {
        const int Requests = 500;
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.Seed = 42;
            o.Faults = new MockFaults
            {
                InternalServerErrorRate = 0.1,
                BadGatewayRate = 0.1,
                ServiceUnavailableRate = 0.1,
                ConnectionResetRate = 0.1,
                MalformedBodyRate = 0.1,
            };
        });

        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < Requests; i++)
        {
            var outcome = await ClassifyAsync(mock);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        foreach (var fault in new[] { "server_error_500", "bad_gateway_502", "service_unavailable_503", "connection_reset", "malformed_body" })
        {
            AssertNearRate(outcomes.GetValueOrDefault(fault), Requests, 0.1);
        }

        AssertNearRate(outcomes["ok"], Requests, 0.5);
        var stats = mock.Server.GetStats();
        Assert.Equal(outcomes["ok"], stats.Succeeded);
        Assert.Equal(Requests, stats.Accepted);
        foreach (var (fault, count) in stats.Faults)
        {
            Assert.Equal(outcomes[fault], count);
        }
    }

    [Fact]
    public async Task Overloaded_HitsMessagesAtItsRate_AndNeverOpenAI()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { OverloadedRate = 0.3 });

        var overloaded = 0;
        for (var i = 0; i < 300; i++)
        {
            using var response = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 5));
            if ((int)response.StatusCode == 529)
            {
                overloaded++;
                var body = await response.JsonAsync();
                Assert.Equal("overloaded_error", body.GetProperty("error").GetProperty("type").GetString());
            }
        }

        for (var i = 0; i < 100; i++)
        {
            using var response = await mock.SendAsync(RunningMock.Chat());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        AssertNearRate(overloaded, 300, 0.3);
        Assert.Equal(overloaded, mock.Server.GetStats().Faults["overloaded_529"]);
    }

    [Fact]
    public async Task StreamCut_EndsStreamsBeforeTheirLastEvent_AtItsRate()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { StreamCutRate = 0.25 });

        var cut = 0;
        for (var i = 0; i < 200; i++)
        {
            using var response = await mock.SendAsync(i % 2 == 0
                ? RunningMock.Chat("Hi", stream: true)
                : RunningMock.Messages("Hi", stream: true));
            var events = await response.EventsAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var complete = i % 2 == 0 ? events[^1].Data == "[DONE]" : events[^1].Event == "message_stop";
            if (!complete)
            {
                cut++;
                Assert.All(events, e => JsonDocument.Parse(e.Data).Dispose());
            }
        }

        using (var plain = await mock.SendAsync(RunningMock.Chat()))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }

        AssertNearRate(cut, 200, 0.25);
        Assert.Equal(cut, mock.Server.GetStats().Faults["stream_cut"]);
    }

    [Fact]
    public async Task MalformedBody_InAStream_IsOneTruncatedEvent()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { MalformedBodyRate = 1 });

        using var response = await mock.SendAsync(RunningMock.Chat("Hi", stream: true));
        var events = await response.EventsAsync();

        Assert.Equal("[DONE]", events[^1].Data);
        var invalid = events.SkipLast(1).Count(e =>
        {
            try
            {
                JsonDocument.Parse(e.Data).Dispose();
                return false;
            }
            catch (JsonException)
            {
                return true;
            }
        });
        Assert.Equal(1, invalid);
        Assert.Equal(0, mock.Server.GetStats().Succeeded);
    }

    [Fact]
    public async Task Hang_NeverAnswers_UntilTheClientGivesUp_AtItsRate()
    {
        const int Requests = 60;
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { HangRate = 0.3 });

        var results = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async _ =>
        {
            using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                using var response = await mock.SendAsync(RunningMock.Chat(), giveUp.Token);
                return response.StatusCode == HttpStatusCode.OK ? "ok" : "other";
            }
            catch (OperationCanceledException)
            {
                return "hung";
            }
        })).Within();

        var hung = results.Count(r => r == "hung");
        Assert.Equal(Requests - hung, results.Count(r => r == "ok"));
        AssertNearRate(hung, Requests, 0.3);
        Assert.Equal(hung, mock.Server.GetStats().Faults["hang"]);
        await Bounded.UntilAsync(() => mock.Server.GetStats().InFlight == 0);
    }

    [Fact]
    public async Task Hang_DoesNotBlockShutdown()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { HangRate = 1 });
        var hanging = mock.SendAsync(RunningMock.Chat());
        await Bounded.UntilAsync(() => mock.Server.GetStats().Faults.ContainsKey("hang"));

        var stopping = TimeProvider.System.GetTimestamp();
        await mock.Server.DisposeAsync().Within();

        Assert.True(TimeProvider.System.GetElapsedTime(stopping) < TimeSpan.FromSeconds(4), "shutdown waited for the hanging request");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => hanging);
    }

    [Fact]
    public async Task AuthExpiry_Gets401AfterNRequests_UntilTheKeyChanges()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { AuthExpiresAfterRequests = 2 });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await mock.SendAsync(RunningMock.Chat());
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                var error = (await response.JsonAsync()).GetProperty("error");
                Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
                Assert.DoesNotContain(RunningMock.Key, error.GetProperty("message").GetString(), StringComparison.Ordinal);
            }
        }

        var renewed = RunningMock.Chat();
        renewed.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-renewed");
        using var afterRenewal = await mock.SendAsync(renewed);
        using var anthropic = await mock.SendAsync(RunningMock.Messages());
        using var anthropicAgain = await mock.SendAsync(RunningMock.Messages());
        using var anthropicExpired = await mock.SendAsync(RunningMock.Messages());

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], statuses);
        Assert.Equal(HttpStatusCode.OK, afterRenewal.StatusCode);
        Assert.Equal(HttpStatusCode.OK, anthropic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, anthropicAgain.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anthropicExpired.StatusCode);
        Assert.Equal("authentication_error", (await anthropicExpired.JsonAsync()).GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(3, mock.Server.GetStats().Faults["auth_expired_401"]);
    }

    [Fact]
    public async Task Quota_IsExhaustedAfterNServedRequests_NotCountingRateLimitedOnes()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.Limits = new MockLimits { RequestsPerMinute = 60 };
            o.Faults = new MockFaults { QuotaExhaustedAfterRequests = 2 };
        });

        using var first = await mock.SendAsync(RunningMock.Chat());
        using var throttled = await mock.SendAsync(RunningMock.Chat());
        mock.Time!.Advance(TimeSpan.FromSeconds(1));
        using var second = await mock.SendAsync(RunningMock.Chat());
        mock.Time.Advance(TimeSpan.FromSeconds(1));
        using var exhausted = await mock.SendAsync(RunningMock.Chat());
        using var billing = await mock.SendAsync(RunningMock.Messages());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, exhausted.StatusCode);
        var error = (await exhausted.JsonAsync()).GetProperty("error");
        Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());
        Assert.Equal("insufficient_quota", error.GetProperty("code").GetString());
        Assert.Null(exhausted.Header("retry-after"));
        Assert.Equal(HttpStatusCode.PaymentRequired, billing.StatusCode);
        Assert.Equal("billing_error", (await billing.JsonAsync()).GetProperty("error").GetProperty("type").GetString());

        using (await mock.SendAsync(RunningMock.Raw("mock/reset", "")))
        {
        }

        using var afterReset = await mock.SendAsync(RunningMock.Chat());
        Assert.Equal(HttpStatusCode.OK, afterReset.StatusCode);
    }

    [Fact]
    public async Task ContextLength_RefusesPromptsOverTheLimit()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Faults = new MockFaults { ContextLengthLimit = 10 });

        using var fits = await mock.SendAsync(RunningMock.Chat(new string('a', 40)));
        using var tooLong = await mock.SendAsync(RunningMock.Chat(new string('a', 41)));
        using var anthropicTooLong = await mock.SendAsync(RunningMock.Messages(new string('a', 41)));

        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        var error = (await tooLong.JsonAsync()).GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Contains("maximum context length is 10 tokens", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, anthropicTooLong.StatusCode);
        Assert.Equal("prompt is too long: 11 tokens > 10 maximum", (await anthropicTooLong.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(2, mock.Server.GetStats().Faults["context_length_exceeded"]);
    }

    private static async Task<string> ClassifyAsync(RunningMock mock)
    {
        try
        {
            using var response = await mock.SendAsync(RunningMock.Chat());
            var text = await response.Content.ReadAsStringAsync().Within();
            switch ((int)response.StatusCode)
            {
                case 500:
                    Assert.Equal("server_error", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("type").GetString());
                    return "server_error_500";
                case 502:
                    Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
                    return "bad_gateway_502";
                case 503:
                    JsonDocument.Parse(text).Dispose();
                    return "service_unavailable_503";
                case 200:
                    try
                    {
                        JsonDocument.Parse(text).Dispose();
                        return "ok";
                    }
                    catch (JsonException)
                    {
                        return "malformed_body";
                    }

                default:
                    return $"unexpected {response.StatusCode}";
            }
        }
        catch (HttpRequestException)
        {
            return "connection_reset";
        }
    }

    // Four standard deviations of a binomial count; the draws are seeded, so the outcome is also the same every run.
    private static void AssertNearRate(int hits, int trials, double rate)
    {
        var tolerance = 4 * Math.Sqrt(trials * rate * (1 - rate));
        Assert.InRange(hits, (trials * rate) - tolerance, (trials * rate) + tolerance);
    }
}
