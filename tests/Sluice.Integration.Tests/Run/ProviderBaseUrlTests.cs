using System.Net;
using System.Net.Http.Json;
using Sluice.Cli.Proxy;
using Sluice.Integration.Tests.Proxy;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Run;

/// <summary>
/// docs/providers.md's table of OpenAI-compatible providers, row by row: each provider's documented base URL (the one
/// its docs give the OpenAI SDKs) moved to 127.0.0.1, in front of the mock serving its API under that URL's path and
/// nowhere else. <c>sluice run --base-url</c> and <c>sluice proxy --upstream</c> must reach the path the row says.
/// </summary>
public sealed class ProviderBaseUrlTests
{
    /// <summary>Provider, its documented base URL, and the path Sluice sends <c>/v1/chat/completions</c> to.</summary>
    public static TheoryData<string, string, string> Rows => new()
    {
        { "OpenAI", "https://api.openai.com/v1", "/v1/chat/completions" },
        { "OpenAI (bare host)", "https://api.openai.com", "/v1/chat/completions" },
        { "Azure OpenAI (v1 API)", "https://RESOURCE.openai.azure.com/openai/v1/", "/openai/v1/chat/completions" },
        { "Azure OpenAI (deployment)", "https://RESOURCE.openai.azure.com/openai/deployments/gpt-4o-mini?api-version=2024-10-21", "/openai/deployments/gpt-4o-mini/chat/completions" },
        { "Google Gemini", "https://generativelanguage.googleapis.com/v1beta/openai/", "/v1beta/openai/chat/completions" },
        { "Groq", "https://api.groq.com/openai/v1", "/openai/v1/chat/completions" },
        { "OpenRouter", "https://openrouter.ai/api/v1", "/api/v1/chat/completions" },
        { "Fireworks AI", "https://api.fireworks.ai/inference/v1", "/inference/v1/chat/completions" },
        { "Together AI", "https://api.together.xyz/v1", "/v1/chat/completions" },
        { "Mistral", "https://api.mistral.ai/v1", "/v1/chat/completions" },
        { "DeepSeek", "https://api.deepseek.com", "/v1/chat/completions" },
        { "xAI", "https://api.x.ai/v1", "/v1/chat/completions" },
        { "Cerebras", "https://api.cerebras.ai/v1", "/v1/chat/completions" },
        { "Anthropic (OpenAI SDK compatibility)", "https://api.anthropic.com/v1/", "/v1/chat/completions" },
        { "Ollama", "http://localhost:11434/v1", "/v1/chat/completions" },
        { "vLLM", "http://localhost:8000/v1", "/v1/chat/completions" },
        { "LM Studio", "http://localhost:1234/v1", "/v1/chat/completions" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Run_DocumentedBaseUrl_ReachesTheProvidersPath(string provider, string documented, string expectedPath)
    {
        using var files = new BatchFiles(3);
        await using var mock = await MountedAsync(expectedPath);

        var (exitCode, output, error) = await files.RunAsync(OnLoopback(documented, mock), "--provider", "compatible");

        Assert.True(exitCode == 0, $"{provider}: exit {exitCode}\n{output}\n{error}");
        Assert.Equal(3, mock.GetStats().Succeeded);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Proxy_DocumentedUpstream_ReachesTheProvidersPath(string provider, string documented, string expectedPath)
    {
        await using var mock = await MountedAsync(expectedPath);
        await using var proxy = await ProxyServer.StartAsync(ProxyFixture.Single(OnLoopback(documented, mock))).WaitAsync(BatchFiles.Bound);
        using var client = new HttpClient { BaseAddress = proxy.BaseUrl, Timeout = BatchFiles.Bound };

        using var response = await client.PostAsJsonAsync("v1/chat/completions", new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } })
            .WaitAsync(BatchFiles.Bound);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{provider}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(1, mock.GetStats().Succeeded);
    }

    // The mock serves its API only under the path the row expects, so any other join gets a 404.
    private static Task<MockServer> MountedAsync(string expectedPath) =>
        MockServer.StartAsync(new MockOptions { ApiRoot = expectedPath[..^"/chat/completions".Length] }).WaitAsync(BatchFiles.Bound);

    // The documented URL's path and query, on the mock's loopback address.
    private static Uri OnLoopback(string documented, MockServer mock) => new(mock.BaseUrl, new Uri(documented).PathAndQuery);
}
