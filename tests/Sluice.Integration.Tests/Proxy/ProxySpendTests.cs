using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Sluice.Cli.Proxy;
using Sluice.Mock;
using Sluice.Proxy;
using Sluice.Spend;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Proxy;

/// <summary>
/// Spend caps in <c>sluice proxy</c> against the mock: requests priced at a cent a token (a prices file), an upstream's
/// daily cap that concurrent requests never pass together (by what the mock answered), refusals as 402
/// <c>spend_cap_reached</c> that the mock never sees and the OpenAI SDK does not retry, and a client's own cap that
/// leaves other clients answered.
/// </summary>
public sealed class ProxySpendTests(ITestOutputHelper output) : IDisposable
{
    private const string UpstreamKey = "sk-proxy-held-spend-secret-4Rb";

    // A cent a token, in and out: a request costs tens of cents, so a cap of a dollar or two is a handful of requests.
    private const decimal PerToken = 0.01m;

    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-proxy-spend-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private PriceTable Prices()
    {
        string path = Path.Combine(_directory, "prices.json");
        File.WriteAllText(path, """{ "asOf": "2026-12-01", "openai": { "models": { "gpt-4o-mini": { "input": 10000, "output": 10000 } } } }""");
        return PriceTable.Default.OverriddenBy(PriceTable.Load(path));
    }

    private ProxySettings Capped(Uri mock, decimal? perDay, decimal? perClient, string? apiKey) => ProxyFixture.Single(mock, apiKey: apiKey) with
    {
        Upstreams = [ProxyFixture.Single(mock, apiKey: apiKey).Upstreams[0] with { MaxSpendPerDay = perDay, MaxSpendPerClientPerDay = perClient }],
        Prices = Prices(),
    };

    private static HttpRequestMessage Chat(int i, string? key = null, bool stream = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"gpt-4o-mini","max_tokens":10,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Summarise blog post {{i}} in one sentence."}]}""",
                Encoding.UTF8,
                "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    private static decimal AnsweredCost(MockStats stats) => (stats.PromptTokens + stats.CompletionTokens) * PerToken;

    [Fact]
    public async Task UpstreamCap_ConcurrentRequests_MockAnsweredCostNeverPassesCap_RefusedGet402Unsent_SdkDoesNotRetry()
    {
        const decimal cap = 1.50m;
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { Latency = TimeSpan.FromMilliseconds(40), LatencyJitter = TimeSpan.FromMilliseconds(30), Seed = 3 },
            mock => Capped(mock, cap, null, UpstreamKey));

        // 40 at once, half of them streams: far more than the cap pays for.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = await fixture.Client.SendAsync(Chat(i, stream: i % 2 == 1), HttpCompletionOption.ResponseContentRead).WaitAsync(ProxyFixture.Bound);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(), Error: response.Headers.TryGetValues("x-sluice-error", out var e) ? e.Single() : null);
        })).WaitAsync(ProxyFixture.Bound);

        var stats = fixture.Mock.GetStats();
        int answered = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.PaymentRequired).ToList();
        output.WriteLine($"{answered} answered, {refused.Count} refused; the mock received {stats.Received} and answered ${AnsweredCost(stats)} of ${cap}");
        Assert.Equal(40, answered + refused.Count);
        Assert.InRange(answered, 1, 39);
        Assert.Equal(answered, stats.Received); // a refused request was never sent
        Assert.Equal(answered, stats.Succeeded);
        Assert.True(AnsweredCost(stats) <= cap, $"the mock answered ${AnsweredCost(stats)}, over the cap of ${cap}");
        foreach (var (_, body, error) in refused)
        {
            Assert.Equal("spend_cap_reached", error);
            var detail = JsonDocument.Parse(body).RootElement.GetProperty("error");
            Assert.Equal("spend_cap_reached", detail.GetProperty("type").GetString());
            Assert.Equal("spend_cap_reached", detail.GetProperty("code").GetString());
            string message = detail.GetProperty("message").GetString()!;
            Assert.StartsWith("sluice proxy: the daily spend cap of upstream 'default' ($1.50 per UTC day) is reached", message, StringComparison.Ordinal);
            Assert.Contains($"It resets at {TimeProvider.System.GetUtcNow().UtcDateTime.Date.AddDays(1):yyyy-MM-dd}T00:00:00Z (UTC midnight)", message, StringComparison.Ordinal);
        }

        // The OpenAI SDK, its retries on (the default policy retries 429s and 5xx): a 402 fails the call at once. Its
        // output cap of 200 tokens is a worst case of $2 or more, past what any part of the cap leaves.
        long refusedBefore = await RefusedAsync(fixture);
        var openai = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = fixture.V1,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 3),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });
        var failure = await Assert.ThrowsAsync<ClientResultException>(() =>
            openai.GetChatClient("gpt-4o-mini").CompleteChatAsync([new UserChatMessage("One more, please.")], new ChatCompletionOptions { MaxOutputTokenCount = 200 })).WaitAsync(ProxyFixture.Bound);
        Assert.Equal(402, failure.Status);
        Assert.Contains("spend_cap_reached", failure.Message, StringComparison.Ordinal);
        Assert.Equal(refusedBefore + 1, await RefusedAsync(fixture)); // one request, not four
        Assert.Equal(answered, fixture.Mock.GetStats().Received);

        // Nothing stays reserved once every answer has ended; what is settled is within the cap.
        using var status = JsonDocument.Parse(await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound));
        var spend = status.RootElement.GetProperty("upstreams")[0].GetProperty("spend");
        Assert.Equal(cap, spend.GetProperty("max_per_day").GetDecimal());
        Assert.Equal(0m, spend.GetProperty("reserved").GetDecimal());
        decimal spentToday = spend.GetProperty("spent_today").GetDecimal();
        Assert.InRange(spentToday, 0.01m, cap);
        Assert.Equal(spentToday, spend.GetProperty("spent_since_start").GetDecimal());
        Assert.Equal(TimeProvider.System.GetUtcNow().UtcDateTime.Date.AddDays(1), spend.GetProperty("resets_at").GetDateTimeOffset().UtcDateTime);
        Assert.Equal(refused.Count + 1, spend.GetProperty("refused").GetInt64());

        string metrics = await fixture.Client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        Assert.Contains("sluice_proxy_spend_usd_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_proxy_spend_cap_refusals_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_proxy_spend_reserved_usd{", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_proxy_spend_today_usd{", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(UpstreamKey, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(UpstreamKey, status.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(UpstreamKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientCap_ClientACapped_ClientBStillAnswered_NoKeyAnywhere()
    {
        const string keyA = "sk-client-a-spend-secret-91x";
        const string keyB = "sk-client-b-spend-secret-27q";
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => Capped(mock, null, 0.80m, apiKey: null));

        int answeredA = 0;
        HttpResponseMessage? refusal = null;
        for (int i = 0; i < 30 && refusal is null; i++)
        {
            var response = await fixture.Client.SendAsync(Chat(i, keyA)).WaitAsync(ProxyFixture.Bound);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                answeredA++;
                response.Dispose();
            }
            else
            {
                refusal = response;
            }
        }

        Assert.NotNull(refusal);
        using (refusal)
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, refusal.StatusCode);
            string body = await refusal.Content.ReadAsStringAsync();
            string message = JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString()!;
            Assert.StartsWith("sluice proxy: your daily spend cap at upstream 'default' ($0.80 per client per UTC day) is reached", message, StringComparison.Ordinal);
            Assert.DoesNotContain(keyA, body, StringComparison.Ordinal);
            Assert.DoesNotContain(ClientFingerprint.Of(keyA), body, StringComparison.Ordinal);
        }

        Assert.InRange(answeredA, 1, 29);
        long receivedBeforeB = fixture.Mock.GetStats().Received;
        using (var b = await fixture.Client.SendAsync(Chat(100, keyB)).WaitAsync(ProxyFixture.Bound))
        {
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        }

        using (var againA = await fixture.Client.SendAsync(Chat(101, keyA)).WaitAsync(ProxyFixture.Bound))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, againA.StatusCode);
        }

        Assert.Equal(receivedBeforeB + 1, fixture.Mock.GetStats().Received);
        Assert.True(AnsweredCost(fixture.Mock.GetStats()) <= 0.80m + 0.80m, "two clients' caps together bound what was answered");

        using var status = JsonDocument.Parse(await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound));
        var spend = status.RootElement.GetProperty("upstreams")[0].GetProperty("spend");
        Assert.Equal(2, spend.GetProperty("clients_tracked").GetInt32());
        Assert.Equal(JsonValueKind.Null, spend.GetProperty("max_per_day").ValueKind);
        string metrics = await fixture.Client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        foreach (string key in new[] { keyA, keyB })
        {
            Assert.DoesNotContain(key, metrics, StringComparison.Ordinal);
            Assert.DoesNotContain(key, status.RootElement.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(key, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task UnpricedModel_UnderCap_402NamesTheModel_Unsent()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions { AcceptAnyModel = true }, mock => Capped(mock, 5m, null, UpstreamKey));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"house-model-7","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };

        using var response = await fixture.Client.SendAsync(request).WaitAsync(ProxyFixture.Bound);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        string message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("model 'house-model-7' has no price", message, StringComparison.Ordinal);
        Assert.Contains("--prices FILE", message, StringComparison.Ordinal);
        Assert.Equal(0, fixture.Mock.GetStats().Received);

        // A request naming no model (the model list) is not priced by tokens, and a cap does not stop it.
        using var models = await fixture.Client.GetAsync("v1/models").WaitAsync(ProxyFixture.Bound);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
    }

    [Fact]
    public async Task AnthropicUpstream_402InAnthropicsShape()
    {
        // The shipped prices: claude-haiku-4-5's 1,000 output tokens alone cost far more than a cap of a hundredth of a cent.
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions(),
            mock => ProxyFixture.Single(mock, apiKey: UpstreamKey, provider: Sluice.Providers.ProviderKind.Anthropic) with
            {
                Upstreams = [ProxyFixture.Single(mock, apiKey: UpstreamKey, provider: Sluice.Providers.ProviderKind.Anthropic).Upstreams[0] with { MaxSpendPerDay = 0.0001m }],
            });
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = new StringContent("""{"model":"claude-haiku-4-5","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };

        using var response = await fixture.Client.SendAsync(request).WaitAsync(ProxyFixture.Bound);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("spend_cap_reached", body.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("sluice proxy: the daily spend cap of upstream 'default' ($0.0001 per UTC day) is reached", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task CapReached_CachedAnswerStillServed_CostsNothing()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => Capped(mock, 1.00m, null, UpstreamKey) with
        {
            Upstreams = [Capped(mock, 1.00m, null, UpstreamKey).Upstreams[0] with { Cache = true }],
            CacheFile = Path.Combine(_directory, "cache.db"),
        });
        using (var first = await fixture.Client.SendAsync(Deterministic()).WaitAsync(ProxyFixture.Bound))
        {
            Assert.Equal((HttpStatusCode.OK, "miss"), (first.StatusCode, first.Headers.GetValues("x-sluice-cache").Single()));
        }

        for (int i = 0; i < 30; i++)
        {
            using var response = await fixture.Client.SendAsync(Chat(i)).WaitAsync(ProxyFixture.Bound);
            if (response.StatusCode == HttpStatusCode.PaymentRequired)
            {
                break;
            }
        }

        long received = fixture.Mock.GetStats().Received;
        decimal spent = await SpentAsync(fixture);
        using (var again = await fixture.Client.SendAsync(Deterministic()).WaitAsync(ProxyFixture.Bound))
        {
            Assert.Equal((HttpStatusCode.OK, "hit"), (again.StatusCode, again.Headers.GetValues("x-sluice-cache").Single()));
        }

        Assert.Equal(received, fixture.Mock.GetStats().Received);
        Assert.Equal(spent, await SpentAsync(fixture));

        static HttpRequestMessage Deterministic() => new(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","temperature":0,"max_tokens":10,"messages":[{"role":"user","content":"The cached one."}]}""", Encoding.UTF8, "application/json"),
        };
    }

    private static async Task<decimal> SpentAsync(ProxyFixture fixture)
    {
        using var status = JsonDocument.Parse(await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound));
        return status.RootElement.GetProperty("upstreams")[0].GetProperty("spend").GetProperty("spent_since_start").GetDecimal();
    }

    private static async Task<long> RefusedAsync(ProxyFixture fixture)
    {
        using var status = JsonDocument.Parse(await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound));
        return status.RootElement.GetProperty("upstreams")[0].GetProperty("spend").GetProperty("refused").GetInt64();
    }
}
