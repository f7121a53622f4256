using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sluice.Gate;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Http;

public sealed class SluiceHandlerTests
{
    private static JsonContent Chat(string text, bool stream = false, string model = "gpt-4o-mini") => JsonContent.Create(new JsonObject
    {
        ["model"] = model,
        ["max_tokens"] = 30,
        ["stream"] = stream,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
    });

    [Fact]
    public async Task Throttled_WithNoBudgetGiven_PausesOnTheProviders429sAndEveryCallSucceeds()
    {
        await using var fixture = await MockFixture.StartAsync(
            new MockOptions { Limits = new MockLimits { RequestsPerMinute = 1200 } },
            MockFixture.FastRetries());

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => fixture.Client.PostAsync("v1/chat/completions", Chat($"post {i}"))))
            .WaitAsync(MockFixture.Bound);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var stats = fixture.Mock.GetStats();
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Equal(60, stats.Succeeded);
    }

    [Fact]
    public async Task Permanent_TheProvidersErrorIsReturnedUnchanged_AndNotRetried()
    {
        await using var fixture = await MockFixture.StartAsync(new MockOptions(), MockFixture.FastRetries());

        using var response = await fixture.Client.PostAsync("v1/chat/completions", Chat("hello", model: "no-such-model")).WaitAsync(MockFixture.Bound);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("model_not_found", body["error"]!["code"]!.GetValue<string>());
        Assert.Equal(1, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task Transient_ServerErrorsAndMalformedBodies_AreRetriedUntilTheySucceed()
    {
        await using var fixture = await MockFixture.StartAsync(
            new MockOptions { Seed = 7, Faults = new MockFaults { InternalServerErrorRate = 0.2, MalformedBodyRate = 0.1 } },
            MockFixture.FastRetries());

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => fixture.Client.PostAsync("v1/chat/completions", Chat($"post {i}"))))
            .WaitAsync(MockFixture.Bound);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
        {
            Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]);
        }

        Assert.True(fixture.Mock.GetStats().Faults.Values.Sum() > 0, "the mock injected no faults: the test proves nothing");
    }

    [Fact]
    public async Task Stream_PassesThrough_HoldsTheSlotUntilTheBodyEnds_AndAsksForItsUsage()
    {
        await using var fixture = await MockFixture.StartAsync(new MockOptions(), MockFixture.FastRetries());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat("stream me", stream: true) };

        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(MockFixture.Bound);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, fixture.OnlyPartition.GetSnapshot().InFlight);

        string body = await response.Content.ReadAsStringAsync().WaitAsync(MockFixture.Bound);

        Assert.Contains("data: [DONE]", body);
        Assert.Contains("\"usage\"", body); // Sluice asked for the usage chunk the caller did not
        Assert.Equal(0, fixture.OnlyPartition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task AnthropicStream_SettlesTheReservationFromTheUsageItReports()
    {
        // 100 tokens a second refill: the test is over long before refill could hide a missing settlement.
        var options = MockFixture.FastRetries(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 10_000 });
        options.Provider = Providers.ProviderKind.Anthropic;
        await using var fixture = await MockFixture.StartAsync(new MockOptions(), options);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["model"] = "claude-haiku-4-5",
                ["max_tokens"] = 4_000,
                ["stream"] = true,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "stream me" }),
            }),
        };

        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(MockFixture.Bound);
        Assert.True(fixture.OnlyPartition.GetSnapshot().TokensAvailable < 6_100, "the 4,000-token output cap was not reserved");
        string body = await response.Content.ReadAsStringAsync().WaitAsync(MockFixture.Bound);

        Assert.True(body.Contains("message_stop", StringComparison.Ordinal), body);
        var snapshot = fixture.OnlyPartition.GetSnapshot();
        Assert.Equal(0, snapshot.InFlight);
        Assert.True(snapshot.TokensAvailable > 9_900, $"the reservation was not settled from the stream's usage: {snapshot.TokensAvailable}");
    }

    [Fact]
    public async Task AnthropicStream_SettlesInputAndOutputEachFromItsOwnUsage()
    {
        // 10 input and 10 output tokens a second, 10 held: the request's 80-token cap and its prompt of about 57 leave
        // both budgets in debt, and refill is too slow to hide a missing settlement.
        var options = MockFixture.FastRetries(new PartitionLimits { InputTokensPerWindow = 600, OutputTokensPerWindow = 600 });
        options.Provider = Providers.ProviderKind.Anthropic;
        options.DefaultLimits.LearnBudgets = false;
        await using var fixture = await MockFixture.StartAsync(new MockOptions { ReplyTokens = 30 }, options);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["model"] = "claude-haiku-4-5",
                ["max_tokens"] = 80,
                ["stream"] = true,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new string('x', 200) }),
            }),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(MockFixture.Bound);
        var reserved = fixture.OnlyPartition.GetSnapshot().Budgets.ToDictionary(b => b.Dimension, b => b.Available);
        Assert.True(reserved[BudgetDimension.OutputTokens] < -60, $"the output cap of 80 was not reserved: {reserved[BudgetDimension.OutputTokens]} left");
        Assert.True(reserved[BudgetDimension.InputTokens] < -40, $"the prompt was not reserved: {reserved[BudgetDimension.InputTokens]} left");
        string body = await response.Content.ReadAsStringAsync().WaitAsync(MockFixture.Bound);

        // The mock produced 30 of the 80: 50 come back from message_delta's usage; the input settles at the mock's 50.
        Assert.Contains("message_delta", body, StringComparison.Ordinal);
        var settled = fixture.OnlyPartition.GetSnapshot().Budgets.ToDictionary(b => b.Dimension, b => b.Available);
        Assert.True(settled[BudgetDimension.OutputTokens] >= reserved[BudgetDimension.OutputTokens] + 50, $"output not refunded: {reserved[BudgetDimension.OutputTokens]} then {settled[BudgetDimension.OutputTokens]}");
        Assert.True(settled[BudgetDimension.InputTokens] > reserved[BudgetDimension.InputTokens], $"input not settled: {reserved[BudgetDimension.InputTokens]} then {settled[BudgetDimension.InputTokens]}");
    }

    [Fact]
    public async Task Stream_CutBeforeItsEnd_IsAnErrorToTheCaller_NotASilentTruncation()
    {
        await using var fixture = await MockFixture.StartAsync(
            new MockOptions { Faults = new MockFaults { StreamCutRate = 1 } },
            MockFixture.FastRetries());
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat("stream me", stream: true) };
        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(MockFixture.Bound);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => response.Content.ReadAsStringAsync().WaitAsync(MockFixture.Bound));

        // HttpContent wraps what the body's stream throws; the cause is ours, and says what happened.
        var cause = Assert.IsType<IOException>(error as IOException ?? error.InnerException);
        Assert.Contains("ended before", cause.Message);
        Assert.Equal(0, fixture.OnlyPartition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task QuotaExhausted_StopsThePartitionAfterTheRequestsInFlight_AndEveryCallerGetsTheQuotaError()
    {
        await using var fixture = await MockFixture.StartAsync(
            new MockOptions { Faults = new MockFaults { QuotaExhaustedAfterRequests = 10 } },
            MockFixture.FastRetries(new PartitionLimits { MaxConcurrency = 4 }));

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => fixture.Client.PostAsync("v1/chat/completions", Chat($"post {i}"))))
            .WaitAsync(MockFixture.Bound);

        var failed = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.Equal(40, failed.Count);
        foreach (var response in failed)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Contains("insufficient_quota", await response.Content.ReadAsStringAsync());
        }

        // No retry storm: after the first quota answer, at most the requests already in flight reached the mock.
        Assert.InRange(fixture.Mock.GetStats().Received, 11, 10 + 4);
        Assert.Contains("quota", fixture.OnlyPartition.GetSnapshot().StopReason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AuthExpiry_CallsTheRefreshHookOnce_AndCarriesOn()
    {
        int refreshes = 0;
        var options = MockFixture.FastRetries(new PartitionLimits { MaxConcurrency = 4 });
        options.RefreshCredentials = (request, _) =>
        {
            Interlocked.Increment(ref refreshes);
            request.Headers.Authorization = new("Bearer", "sk-test-secret-key-2");
            return ValueTask.FromResult(true);
        };
        await using var fixture = await MockFixture.StartAsync(new MockOptions { Faults = new MockFaults { AuthExpiresAfterRequests = 5 } }, options);

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => fixture.Client.PostAsync("v1/chat/completions", Chat($"post {i}"))))
            .WaitAsync(MockFixture.Bound);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, refreshes);
    }

    [Fact]
    public async Task Keys_NeverAppearInLogsOrPartitionNames_EvenWhenTheyAreRejected()
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        await using var fixture = await MockFixture.StartAsync(
            new MockOptions { Seed = 5, Faults = new MockFaults { AuthExpiresAfterRequests = 3, InternalServerErrorRate = 0.3 } },
            MockFixture.FastRetries(new PartitionLimits { MaxConcurrency = 2 }),
            loggerFactory);

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => fixture.Client.PostAsync("v1/chat/completions", Chat($"post {i}"))))
            .WaitAsync(MockFixture.Bound);

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Unauthorized);
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, line => line.Contains("secret", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("secret", fixture.OnlyPartition.Key, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", fixture.OnlyPartition.GetSnapshot().StopReason ?? "", StringComparison.OrdinalIgnoreCase);
    }
}
