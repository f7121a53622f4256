using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Hosting;

namespace Sluice.Mock.Endpoints;

/// <summary>Maps every path the mock serves. Each is mapped for all methods, so a wrong method gets a provider-shaped answer rather than an empty 405.</summary>
internal static class MockRoutes
{
    public static void Map(WebApplication app, MockEngine engine)
    {
        var pipeline = new ApiPipeline(engine);
        MapApi(app, pipeline, "/v1/chat/completions", new ChatCompletionsEndpoint(engine));
        MapApi(app, pipeline, "/v1/embeddings", new EmbeddingsEndpoint());
        MapApi(app, pipeline, "/v1/responses", new ResponsesEndpoint(engine));
        MapApi(app, pipeline, "/v1/messages", new MessagesEndpoint(engine));
        app.Map("/v1/models", new ModelsEndpoint(engine, pipeline).HandleAsync);

        var admin = new AdminEndpoints(engine);
        app.Map("/mock/stats", admin.StatsAsync);
        app.Map("/mock/reset", admin.ResetAsync);
        app.Map("/mock/limits", admin.LimitsAsync);

        // Routing runs before this middleware; a request it found no endpoint for gets the provider's 404.
        app.Use(next => http => http.GetEndpoint() is null ? pipeline.NotFoundAsync(http) : next(http));
    }

    private static void MapApi(WebApplication app, ApiPipeline pipeline, string path, IApiEndpoint endpoint) =>
        app.Map(path, http => pipeline.HandleAsync(http, endpoint));
}
