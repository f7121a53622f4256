using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Anthropic.Models.Messages;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Mock;
using Sluice.Providers;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Http;

/// <summary>The recipes of docs/handler.md, each run against the mock: the official SDKs get Sluice by configuration.</summary>
[Collection(PacingMeasurements.Name)]
public sealed class SdkRecipesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OpenAISdk_200ConcurrentCallsHalfStreaming_UnderTightBudgets_AllSucceed_WithoutOverrunningTheProvider()
    {
        // 40 requests a second and a token budget that binds first (each call reserves about 60 tokens).
        var limits = new MockLimits { RequestsPerMinute = 2_400, TokensPerMinute = 90_000 };
        await using var fixture = await MockFixture.StartAsync(
            new MockOptions { Limits = limits, Latency = TimeSpan.FromMilliseconds(50), LatencyJitter = TimeSpan.FromMilliseconds(40), Seed = 3 },
            MockFixture.FastRetries(new PartitionLimits { RequestsPerWindow = 2_400, TokensPerWindow = 90_000, MaxConcurrency = 64 }));

        // Recipe: the SDK's transport is the HttpClient, and the SDK's own retries are off — Sluice retries.
        var openai = new OpenAIClient(new ApiKeyCredential("sk-test-secret-key-1"), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.Mock.BaseUrl, "v1"),
            Transport = new HttpClientPipelineTransport(fixture.Client),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        var chat = openai.GetChatClient("gpt-4o-mini");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 30 };

        long started = TimeProvider.System.GetTimestamp();
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            OpenAI.Chat.ChatMessage[] messages = [new UserChatMessage($"Summarise blog post {i} in one sentence.")];
            if (i % 2 == 0)
            {
                return (await chat.CompleteChatAsync(messages, options)).Value.Content[0].Text;
            }

            var text = new System.Text.StringBuilder();
            await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            return text.ToString();
        })).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.All(answers, answer => Assert.False(string.IsNullOrEmpty(answer)));
        var stats = fixture.Mock.GetStats();
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Equal(200, stats.Succeeded);
        long throttled = stats.Rejected.Where(r => r.Key.StartsWith("rate_limit", StringComparison.Ordinal)).Sum(r => r.Value);
        output.WriteLine($"200 calls in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:F1} s; {throttled} of {stats.Received} attempts throttled; {stats.BudgetViolations.Total} budget violations");
        Assert.True(throttled < 0.02 * stats.Received, $"{throttled} of {stats.Received} attempts were throttled: {string.Join(", ", stats.Rejected)}");
        Assert.Equal(0, fixture.OnlyPartition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task AnthropicSdk_MessagesAndStreams_ThroughSluice()
    {
        var sluice = MockFixture.FastRetries(new PartitionLimits { RequestsPerWindow = 1_200 });
        sluice.Provider = ProviderKind.Anthropic;
        await using var fixture = await MockFixture.StartAsync(new MockOptions { Limits = new MockLimits { RequestsPerMinute = 1_200 } }, sluice);

        // Recipe: the SDK's HttpClient is the Sluice one, its retries off.
        var anthropic = new AnthropicClient
        {
            ApiKey = "sk-ant-test-secret",
            BaseUrl = fixture.Mock.BaseUrl.ToString().TrimEnd('/'),
            HttpClient = fixture.Client,
            MaxRetries = 0,
        };
        var request = new MessageCreateParams
        {
            Model = "claude-haiku-4-5",
            MaxTokens = 40,
            Messages = [new UserMessageParam { Content = "Summarise this post." }],
        };

        var messages = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => anthropic.Messages.Create(request))).WaitAsync(MockFixture.Bound);
        int events = 0;
        await foreach (var _ in anthropic.Messages.CreateStreaming(request).WithCancellation(CancellationToken.None))
        {
            events++;
        }

        Assert.All(messages, message => Assert.NotEmpty(message.Content));
        Assert.True(events >= 4, $"{events} stream events");
        Assert.Equal(0, fixture.Mock.GetStats().BudgetViolations.Total);
        Assert.Equal(0, fixture.OnlyPartition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task MicrosoftExtensionsAI_IChatClient_ThroughSluice()
    {
        await using var fixture = await MockFixture.StartAsync(new MockOptions(), MockFixture.FastRetries());
        IChatClient client = new OpenAIClient(new ApiKeyCredential("sk-test-secret-key-1"), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.Mock.BaseUrl, "v1"),
            Transport = new HttpClientPipelineTransport(fixture.Client),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        }).GetChatClient("gpt-4o-mini").AsIChatClient();

        var response = await client.GetResponseAsync("Say hello.", new ChatOptions { MaxOutputTokens = 20 }).WaitAsync(MockFixture.Bound);

        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(1, fixture.Mock.GetStats().Succeeded);
    }

    [Fact]
    public async Task HttpClientFactory_AddSluiceFromConfiguration_SharesOneGateAcrossHandlers()
    {
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(MockFixture.Bound);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sluice:Provider"] = "OpenAI",
            ["Sluice:DefaultLimits:RequestsPerWindow"] = "600",
            ["Sluice:DefaultLimits:MaxConcurrency"] = "8",
            ["Sluice:Partitions:gpt-4o:TokensPerWindow"] = "30000",
            ["Sluice:Retry:MaxAttempts"] = "3",
        }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("openai", client => client.BaseAddress = mock.BaseUrl).AddSluice(configuration.GetSection("Sluice"));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using var first = factory.CreateClient("openai");
        using var second = factory.CreateClient("openai");
        using var response = await first.PostAsync("v1/embeddings", System.Net.Http.Json.JsonContent.Create(new { model = "text-embedding-3-small", input = "hi" }));
        response.EnsureSuccessStatusCode();

        var options = provider.GetRequiredService<IOptionsMonitor<SluiceHandlerOptions>>().Get("openai");
        Assert.Equal(600, options.DefaultLimits.RequestsPerWindow);
        Assert.Equal(30_000, options.Partitions["gpt-4o"].TokensPerWindow);
        Assert.Equal(3, options.Retry.MaxAttempts);
    }

    [Fact]
    public void HttpClientFactory_InvalidConfiguration_FailsAtStartWithEveryError()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sluice:DefaultLimits:MaxConcurrency"] = "0",
            ["Sluice:Partitions:gpt-4o:RequestsPerWindow"] = "-1",
            ["Sluice:Retry:MaxAttempts"] = "0",
        }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("openai").AddSluice(configuration.GetSection("Sluice"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        string text = error.ToString();
        Assert.Contains("DefaultLimits", text);
        Assert.Contains("Partitions:gpt-4o", text);
        Assert.Contains("Retry", text);
    }
}
