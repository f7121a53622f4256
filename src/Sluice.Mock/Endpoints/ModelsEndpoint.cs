using Microsoft.AspNetCore.Http;
using Sluice.Mock.Hosting;

namespace Sluice.Mock.Endpoints;

/// <summary>OpenAI <c>GET /v1/models</c>: the known models, which some clients list before they start.</summary>
internal sealed class ModelsEndpoint(MockEngine engine, ApiPipeline pipeline)
{
    public Task HandleAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            return pipeline.NotFoundAsync(http);
        }

        return JsonResponse.WriteAsync(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in engine.Models.Models.Order(StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("id", model);
                writer.WriteString("object", "model");
                writer.WriteNumber("created", 0);
                writer.WriteString("owned_by", model.StartsWith("claude", StringComparison.Ordinal) ? "anthropic" : "openai");
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }, truncate: false, http.RequestAborted);
    }
}
