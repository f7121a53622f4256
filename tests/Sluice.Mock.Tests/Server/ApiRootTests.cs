using System.Net;
using Microsoft.Extensions.Options;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

/// <summary><see cref="MockOptions.ApiRoot"/>: the API served under a provider's base-URL path, and nowhere else.</summary>
public class ApiRootTests
{
    [Theory]
    [InlineData("/v1beta/openai", "v1beta/openai/chat/completions")]
    [InlineData("/v1beta/openai/", "v1beta/openai/chat/completions")]
    [InlineData("/openai/v1", "openai/v1/chat/completions")]
    [InlineData("/api/v1", "api/v1/chat/completions")]
    [InlineData("/", "chat/completions")]
    [InlineData("/v1", "v1/chat/completions")]
    public async Task UnderItsRoot_TheApiAnswers(string root, string path)
    {
        await using var mock = await RunningMock.StartAsync(o => o.ApiRoot = root);

        using var response = await mock.SendAsync(RunningMock.Post(path, new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/v1beta/openai", "v1/chat/completions")]
    [InlineData("/v1beta/openai", "v1beta/openai/v1/chat/completions")]
    [InlineData("/v1beta/openai", "v1beta/chat/completions")]
    [InlineData("/openai/v1", "openai/chat/completions")]
    [InlineData("/", "v1/chat/completions")]
    public async Task OutsideItsRoot_IsTheProviders404(string root, string path)
    {
        await using var mock = await RunningMock.StartAsync(o => o.ApiRoot = root);

        using var response = await mock.SendAsync(RunningMock.Post(path, new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } }));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, mock.Server.GetStats().Succeeded);
    }

    [Fact]
    public async Task Statistics_StayAtTheRoot()
    {
        await using var mock = await RunningMock.StartAsync(o => o.ApiRoot = "/v1beta/openai");

        var stats = await mock.GetJsonAsync("mock/stats");

        Assert.True(stats.TryGetProperty("received", out _));
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("/a/../b")]
    [InlineData("/a?x=1")]
    [InlineData("/a//b")]
    [InlineData("/mock")]
    [InlineData("/mock/x")]
    public void Validate_ARootThatIsNotAPlainPath_IsRefused(string root)
    {
        var error = Assert.Throws<OptionsValidationException>(new MockOptions { ApiRoot = root }.Validate);

        Assert.Contains(error.Failures, f => f.StartsWith("ApiRoot", StringComparison.Ordinal));
    }
}
