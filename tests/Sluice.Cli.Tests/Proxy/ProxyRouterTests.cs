using Sluice.Cli.Proxy;
using Sluice.Providers;

namespace Sluice.Cli.Tests.Proxy;

public sealed class ProxyRouterTests
{
    private static readonly ProxyUpstream OpenAI = new() { Name = "openai", Url = new Uri("https://api.openai.com"), IsDefault = true, Models = [new ModelBudget("gpt-4o", 500)] };

    private static readonly ProxyUpstream Anthropic = new()
    {
        Name = "anthropic",
        Url = new Uri("https://api.anthropic.com"),
        Provider = ProviderKind.Anthropic,
        Prefix = "/anthropic",
        Paths = ["/v1/messages"],
        Models = [new ModelBudget("claude-*"), new ModelBudget("claude-opus-4-1", 50)],
    };

    private static readonly ProxyUpstream Local = new() { Name = "local", Url = new Uri("http://127.0.0.1:8000"), Provider = ProviderKind.OpenAICompatible, Models = [new ModelBudget("llama-*"), new ModelBudget("llama-3.1-70b-*")] };

    private readonly ProxyRouter _router = new([OpenAI, Anthropic, Local]);

    [Fact]
    public void ByPrefix_StripsThePrivatePrefix()
    {
        Assert.Same(Anthropic, _router.ByPrefix("/anthropic/v1/messages", out string path));
        Assert.Equal("/v1/messages", path);
        Assert.Null(_router.ByPrefix("/anthropicx/v1/messages", out path));
        Assert.Equal("/anthropicx/v1/messages", path);
    }

    [Theory]
    [InlineData("/v1/chat/completions", "claude-haiku-4-5", "anthropic")]
    [InlineData("/v1/chat/completions", "llama-3.1-8b", "local")]
    [InlineData("/v1/chat/completions", "llama-3.1-70b-instruct", "local")]
    [InlineData("/v1/chat/completions", "gpt-4o", "openai")]
    [InlineData("/v1/chat/completions", "gpt-4o-mini", "openai")]
    [InlineData("/v1/messages", null, "anthropic")]
    [InlineData("/v1/models", null, "openai")]
    public void Route_ByModelThenPathThenDefault(string path, string? model, string expected) =>
        Assert.Equal(expected, _router.Route(path, model)!.Name);

    [Fact]
    public void Route_WithoutDefault_AndNoMatch_IsNull()
    {
        var router = new ProxyRouter([Anthropic, Local]);

        Assert.Null(router.Route("/v1/chat/completions", "gpt-4o"));
    }

    [Fact]
    public void Route_SingleUpstream_IsTheDefault() =>
        Assert.Equal("local", new ProxyRouter([Local]).Route("/v1/embeddings", "gpt-4o")?.Name);

    [Theory]
    [InlineData("claude-opus-4-1", "claude-opus-4-1")]
    [InlineData("claude-haiku-4-5", "claude-*")]
    [InlineData(null, "default")]
    public void ModelGroup_ExactNameBeforePattern(string? model, string expected) =>
        Assert.Equal(expected, ProxyRouter.ModelGroup(Anthropic, model));

    [Fact]
    public void ModelGroup_UnlistedModel_IsItsOwnGroup() => Assert.Equal("gpt-4o-mini", ProxyRouter.ModelGroup(OpenAI, "gpt-4o-mini"));

    [Fact]
    public void ModelGroup_LongestPatternWins() => Assert.Equal("llama-3.1-70b-*", ProxyRouter.ModelGroup(Local, "llama-3.1-70b-instruct"));

    [Theory]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1", false)]
    [InlineData("/admin", false)]
    [InlineData("/v2/x", false)]
    public void IsApiPath_OnlyUnderV1(string path, bool expected) => Assert.Equal(expected, ProxyRouter.IsApiPath(path));
}
