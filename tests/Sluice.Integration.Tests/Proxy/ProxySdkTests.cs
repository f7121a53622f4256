using System.ClientModel.Primitives;
using System.ClientModel;
using System.Net;
using Anthropic.Models.Messages;
using Anthropic;
using Microsoft.Extensions.Logging;
using OpenAI.Chat;
using OpenAI;
using Sluice.Cli.Proxy;
using Sluice.Integration.Tests.Http;
using Sluice.Mock;
using Sluice.Providers;
using Sluice.Proxy;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Proxy;

/// <summary>
/// The official SDKs pointed at <c>sluice proxy</c> in front of a tightly limited mock: every call succeeds, no client
/// sees a 429 (the SDKs' own retries are off, so one would fail the call), and the mock's own audit finds no budget
/// violation.
/// </summary>
[Collection(PacingMeasurements.Name)]
public sealed class ProxySdkTests(ITestOutputHelper output)
{
    private const string UpstreamKey = "sk-proxy-held-secret-7Qx";

    [Fact]
    public async Task OpenAISdk_300ConcurrentCallsHalfStreaming_AllSucceed_NoClientSees429_NoBudgetViolation()
    {
        // 40 requests a second and a token budget that binds first (each call reserves about 60 tokens).
        var limits = new MockLimits { RequestsPerMinute = 2_400, TokensPerMinute = 90_000 };
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { Limits = limits, Latency = TimeSpan.FromMilliseconds(50), LatencyJitter = TimeSpan.FromMilliseconds(40), Seed = 5 },
            mock => ProxyFixture.Single(mock, rpm: 2_400, tpm: 90_000, apiKey: UpstreamKey));

        // The client knows nothing of the upstream's key, and its SDK does not retry: a 429 would fail the call.
        var openai = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = fixture.V1,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(90),
        });
        var chat = openai.GetChatClient("gpt-4o-mini");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 30 };

        long started = TimeProvider.System.GetTimestamp();
        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            OpenAI.Chat.ChatMessage[] messages = [new UserChatMessage($"Summarise blog post {i} in one sentence.")];
            if (i % 2 == 0)
            {
                return (await chat.CompleteChatAsync(messages, options)).Value.Content[0].Text;
            }

            var text = new System.Text.StringBuilder();
            int updates = 0;
            await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
            {
                updates++;
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            Assert.True(updates > 2, $"stream {i} had {updates} updates");
            return text.ToString();
        })).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.All(answers, answer => Assert.False(string.IsNullOrEmpty(answer)));
        var stats = fixture.Mock.GetStats();
        long throttled = stats.Rejected.Where(r => r.Key.StartsWith("rate_limit", StringComparison.Ordinal)).Sum(r => r.Value);
        output.WriteLine($"300 calls in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s; {throttled} of {stats.Received} attempts throttled upstream; {stats.BudgetViolations.Total} budget violations");
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Equal(300, stats.Succeeded);
        Assert.True(throttled < 0.02 * stats.Received, $"{throttled} of {stats.Received} attempts were throttled: {string.Join(", ", stats.Rejected)}");
        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.OnlyPartition.GetSnapshot().InFlight == 0), "a slot was not released");

        // The key the proxy holds appears in no log line, no metric and no status.
        string metrics = await fixture.Client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        string status = await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound);
        Assert.Contains("sluice_gate_admitted_total", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_partition_concurrency_limit", metrics, StringComparison.Ordinal);
        Assert.NotEmpty(fixture.Logs.Lines);
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(UpstreamKey, StringComparison.Ordinal));
        Assert.DoesNotContain(UpstreamKey, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(UpstreamKey, status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnthropicSdk_ByPrefix_300ConcurrentCallsHalfStreaming_AllSucceed_NoBudgetViolation_OtherUpstreamUntouched()
    {
        var limits = new MockLimits { RequestsPerMinute = 2_400, TokensPerMinute = 120_000 };
        await using var openaiMock = await MockServer.StartAsync(new MockOptions()).WaitAsync(ProxyFixture.Bound);
        await using var anthropicMock = await MockServer.StartAsync(new MockOptions { Limits = limits, Latency = TimeSpan.FromMilliseconds(30), Seed = 9 }).WaitAsync(ProxyFixture.Bound);
        var settings = new ProxySettings
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Upstreams =
            [
                new ProxyUpstream { Name = "openai", Url = openaiMock.BaseUrl, IsDefault = true },
                new ProxyUpstream
                {
                    Name = "anthropic",
                    Url = anthropicMock.BaseUrl,
                    Provider = ProviderKind.Anthropic,
                    ApiKey = UpstreamKey,
                    ApiKeyEnv = "TEST_ANTHROPIC_KEY",
                    Prefix = "/anthropic",
                    Models = [new ModelBudget("claude-*", RequestsPerMinute: 2_400, TokensPerMinute: 120_000)],
                },
            ],
        };
        var logs = new CapturingLoggerProvider();
        await using var proxy = await ProxyServer.StartAsync(settings, logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace)).WaitAsync(ProxyFixture.Bound);

        var anthropic = new AnthropicClient
        {
            ApiKey = "unused",
            BaseUrl = new Uri(proxy.BaseUrl, "anthropic").ToString(),
            MaxRetries = 0,
        };
        var request = new MessageCreateParams
        {
            Model = "claude-haiku-4-5",
            MaxTokens = 40,
            Messages = [new UserMessageParam { Content = "Summarise this post." }],
        };

        var results = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            if (i % 2 == 0)
            {
                var message = await anthropic.Messages.Create(request);
                return message.Content.Count;
            }

            int events = 0;
            await foreach (var _ in anthropic.Messages.CreateStreaming(request))
            {
                events++;
            }

            return events;
        })).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.All(results, count => Assert.True(count > 0));
        var stats = anthropicMock.GetStats();
        output.WriteLine($"Anthropic: {stats.Received} attempts for 300 calls; rejected: {string.Join(", ", stats.Rejected)}");
        Assert.Equal(300, stats.Succeeded);
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Equal(0, openaiMock.GetStats().Received);
        var partition = Assert.Single(proxy.Proxy.GetEngine("anthropic").Gate.Partitions);
        Assert.EndsWith("|claude-*", partition.Key, StringComparison.Ordinal);
        Assert.True(await ProxyFixture.EventuallyAsync(() => partition.GetSnapshot().InFlight == 0), "a slot was not released");
        Assert.DoesNotContain(logs.Lines, line => line.Contains(UpstreamKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnthropicSdk_InputAndOutputBudgetsFromHeaders_120Calls_AllSucceed_Under2PercentThrottled_NoBudgetViolation()
    {
        // The proxy is told nothing: it learns both budgets from the anthropic-ratelimit-{input,output}-tokens-*
        // headers. Output binds (120 calls × up to 80 tokens at 1,000 a second); replies of 60 tokens leave some
        // caps partly unused, which the mock gives back when the answer ends and Sluice refunds from the usage.
        var limits = new MockLimits { InputTokensPerMinute = 240_000, OutputTokensPerMinute = 60_000 };
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { Limits = limits, Latency = TimeSpan.FromMilliseconds(30), ReplyTokens = 60, Seed = 12 },
            mock => ProxyFixture.Single(mock, apiKey: UpstreamKey, provider: ProviderKind.Anthropic));
        // The SDK's own 30 s timeout is not what this test checks: a busy CI machine once took 37 s over the 120 calls.
        var anthropic = new AnthropicClient { ApiKey = "unused", BaseUrl = fixture.Proxy.BaseUrl.ToString(), MaxRetries = 0, Timeout = TimeSpan.FromSeconds(120) };

        long started = TimeProvider.System.GetTimestamp();
        var outputs = await Task.WhenAll(Enumerable.Range(0, 120).Select(async i =>
        {
            var request = new MessageCreateParams
            {
                Model = "claude-haiku-4-5",
                MaxTokens = 40 + (i % 5 * 10),
                Messages = [new UserMessageParam { Content = $"Summarise post {i}: " + new string('x', 400 + (i % 7 * 100)) }],
            };
            if (i % 2 == 0)
            {
                return (await anthropic.Messages.Create(request)).Usage.OutputTokens;
            }

            long produced = 0;
            await foreach (var streamed in anthropic.Messages.CreateStreaming(request))
            {
                if (streamed.TryPickDelta(out var delta))
                {
                    produced = delta.Usage.OutputTokens;
                }
            }

            return produced;
        })).WaitAsync(TimeSpan.FromSeconds(120));

        var stats = fixture.Mock.GetStats();
        long throttled = stats.Rejected.Where(r => r.Key.StartsWith("rate_limit", StringComparison.Ordinal)).Sum(r => r.Value);
        output.WriteLine($"120 calls in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s; {throttled} of {stats.Received} attempts throttled; rejected: {string.Join(", ", stats.Rejected)}");
        Assert.All(outputs, produced => Assert.InRange(produced, 1, 80));
        Assert.Equal(120, stats.Succeeded);
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.True(throttled <= 0.02 * stats.Received, $"{throttled} of {stats.Received} attempts were throttled: {string.Join(", ", stats.Rejected)}");
        var snapshot = fixture.OnlyPartition.GetSnapshot();
        Assert.Contains(snapshot.Budgets, b => b is { Dimension: Gate.BudgetDimension.OutputTokens, Limit: 60_000, Source: Gate.BudgetSource.Headers });
        Assert.Contains(snapshot.Budgets, b => b is { Dimension: Gate.BudgetDimension.InputTokens, Limit: 240_000, Source: Gate.BudgetSource.Headers });
        Assert.Null(snapshot.TokensPerMinute);
        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.OnlyPartition.GetSnapshot().InFlight == 0), "a slot was not released");
    }
}
