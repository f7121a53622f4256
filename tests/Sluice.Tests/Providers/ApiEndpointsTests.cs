using Sluice.Providers;

namespace Sluice.Tests.Providers;

public sealed class ApiEndpointsTests
{
    [Theory]
    [InlineData("/v1/chat/completions", nameof(ApiEndpoint.ChatCompletions))]
    [InlineData("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", nameof(ApiEndpoint.ChatCompletions))]
    [InlineData("/v1/completions", nameof(ApiEndpoint.Completions))]
    [InlineData("/v1/responses", nameof(ApiEndpoint.Responses))]
    [InlineData("/v1/embeddings/", nameof(ApiEndpoint.Embeddings))]
    [InlineData("/v1/messages", nameof(ApiEndpoint.Messages))]
    [InlineData("/v1/messages/count_tokens", nameof(ApiEndpoint.Unknown))]
    [InlineData("/v1/models", nameof(ApiEndpoint.Unknown))]
    [InlineData("", nameof(ApiEndpoint.Unknown))]
    [InlineData(null, nameof(ApiEndpoint.Unknown))]
    public void FromPath_TellsTheEndpointByItsLastSegments(string? path, string expected)
    {
        Assert.Equal(Enum.Parse<ApiEndpoint>(expected), ApiEndpoints.FromPath(path));
    }

    [Theory]
    [InlineData("/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", "gpt-4o-mini")]
    [InlineData("/openai/deployments/my%20model/embeddings", "my model")]
    [InlineData("/openai/deployments/", null)]
    [InlineData("/v1/chat/completions", null)]
    public void AzureDeployment_ReadsTheDeploymentName(string path, string? expected)
    {
        Assert.Equal(expected, ApiEndpoints.AzureDeployment(path));
    }
}
