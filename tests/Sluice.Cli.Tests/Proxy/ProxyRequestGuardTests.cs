using Sluice.Cli.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class ProxyRequestGuardTests
{
    [Theory]
    [InlineData("POST", "/v1/chat/completions")]
    [InlineData("GET", "/v1/models?limit=5")]
    [InlineData("GET", "/v1/models/gpt-3.5-turbo")]
    [InlineData("POST", "/anthropic/v1/messages")]
    public void OrdinaryPaths_AreAccepted(string method, string target) => Assert.Null(ProxyRequestGuard.Refusal(method, target));

    [Theory]
    [InlineData("POST", "http://evil.example/v1/chat/completions")]
    [InlineData("POST", "https://api.openai.com/v1/chat/completions")]
    [InlineData("CONNECT", "evil.example:443")]
    [InlineData("POST", "//evil.example/v1/chat/completions")]
    [InlineData("POST", "/v1/../admin")]
    [InlineData("POST", "/v1/./chat")]
    [InlineData("POST", "/v1/%2e%2e/admin")]
    [InlineData("POST", "/v1/chat%2Fcompletions")]
    [InlineData("POST", "/v1\\chat")]
    [InlineData("OPTIONS", "*")]
    public void TargetsThatNameAnotherPlace_AreRefused(string method, string target) => Assert.NotNull(ProxyRequestGuard.Refusal(method, target));
}
