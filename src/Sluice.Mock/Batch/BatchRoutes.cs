using Microsoft.AspNetCore.Builder;
using Sluice.Mock.Hosting;

namespace Sluice.Mock.Batch;

/// <summary>Maps both providers' Batch API paths (under <c>/v1</c>, which another API root is rewritten to).</summary>
internal static class BatchRoutes
{
    public static void Map(WebApplication app, MockEngine engine)
    {
        var http = new BatchHttp(engine);
        var files = new OpenAIFilesEndpoint(http);
        var batches = new OpenAIBatchesEndpoint(http);
        app.Map("/v1/files", files.UploadAsync);
        app.Map("/v1/files/{id}", files.FileAsync);
        app.Map("/v1/files/{id}/content", files.ContentAsync);
        app.Map("/v1/batches", batches.BatchesAsync);
        app.Map("/v1/batches/{id}", batches.BatchAsync);
        app.Map("/v1/batches/{id}/cancel", batches.CancelAsync);

        var messages = new AnthropicBatchesEndpoint(http);
        app.Map("/v1/messages/batches", messages.BatchesAsync);
        app.Map("/v1/messages/batches/{id}", messages.BatchAsync);
        app.Map("/v1/messages/batches/{id}/results", messages.ResultsAsync);
        app.Map("/v1/messages/batches/{id}/cancel", messages.CancelAsync);
    }
}
