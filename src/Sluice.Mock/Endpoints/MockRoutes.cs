using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Batch;
using Sluice.Mock.Hosting;

namespace Sluice.Mock.Endpoints;

/// <summary>Maps every path the mock serves. Each is mapped for all methods, so a wrong method gets a provider-shaped answer rather than an empty 405.</summary>
internal static class MockRoutes
{
    private const string DefaultRoot = "/v1";
    private static readonly PathString Admin = new("/mock");

    public static void Map(WebApplication app, MockEngine engine)
    {
        var pipeline = new ApiPipeline(engine);
        if (!engine.ApiRoot.Equals(DefaultRoot, StringComparison.OrdinalIgnoreCase))
        {
            // Served under another root: rewrite it to /v1 before routing, and turn away the paths outside it.
            var root = new PathString(engine.ApiRoot);
            app.Use(next => http =>
            {
                var path = http.Request.Path;
                if (path.StartsWithSegments(Admin, StringComparison.OrdinalIgnoreCase))
                {
                    return next(http);
                }

                if (!path.StartsWithSegments(root, StringComparison.OrdinalIgnoreCase, out var rest))
                {
                    return pipeline.NotFoundAsync(http);
                }

                http.Request.Path = new PathString(DefaultRoot).Add(rest);
                return next(http);
            });
        }

        app.UseRouting();
        MapApi(app, pipeline, "/v1/chat/completions", new ChatCompletionsEndpoint(engine));
        MapApi(app, pipeline, "/v1/embeddings", new EmbeddingsEndpoint());
        MapApi(app, pipeline, "/v1/responses", new ResponsesEndpoint(engine));
        MapApi(app, pipeline, "/v1/messages", new MessagesEndpoint(engine));
        app.Map("/v1/models", new ModelsEndpoint(engine, pipeline).HandleAsync);
        BatchRoutes.Map(app, engine);

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
