using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Hosting;
using Sluice.Mock.Limits;
using Sluice.Mock.Stats;

namespace Sluice.Mock.Endpoints;

/// <summary>
/// The mock's own endpoints under <c>/mock/</c>: <c>GET /mock/stats</c>, <c>POST /mock/reset</c>,
/// <c>GET /mock/limits</c> and <c>POST /mock/limits</c>. They never count as API requests.
/// </summary>
internal sealed class AdminEndpoints(MockEngine engine)
{
    public Task StatsAsync(HttpContext http) =>
        HttpMethods.IsGet(http.Request.Method)
            ? WriteAsync(http, StatusCodes.Status200OK, writer => StatsJson.Write(writer, engine.Snapshot()))
            : MethodNotAllowedAsync(http, "GET");

    public Task ResetAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            return MethodNotAllowedAsync(http, "POST");
        }

        engine.Reset();
        return WriteAsync(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("reset", true);
            writer.WriteEndObject();
        });
    }

    public async Task LimitsAsync(HttpContext http)
    {
        if (HttpMethods.IsGet(http.Request.Method))
        {
            await WriteLimitsAsync(http).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(http.Request.Method))
        {
            await MethodNotAllowedAsync(http, "GET, POST").ConfigureAwait(false);
            return;
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or BadHttpRequestException)
        {
            await ErrorAsync(http, StatusCodes.Status400BadRequest, "The body is not valid JSON.").ConfigureAwait(false);
            return;
        }

        using (document)
        {
            if (!LimitsJson.TryApply(document.RootElement, engine.Gate.Limits, out var limits, out var error))
            {
                await ErrorAsync(http, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
                return;
            }

            engine.Gate.SetLimits(limits);
        }

        await WriteLimitsAsync(http).ConfigureAwait(false);
    }

    private Task WriteLimitsAsync(HttpContext http) =>
        WriteAsync(http, StatusCodes.Status200OK, writer => LimitsJson.Write(writer, engine.Gate.Limits));

    private static Task MethodNotAllowedAsync(HttpContext http, string allow)
    {
        http.Response.Headers.Allow = allow;
        return ErrorAsync(http, StatusCodes.Status405MethodNotAllowed, $"{http.Request.Method} is not allowed here; use {allow}.");
    }

    private static Task ErrorAsync(HttpContext http, int status, string message) =>
        WriteAsync(http, status, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });

    private static Task WriteAsync(HttpContext http, int status, Action<Utf8JsonWriter> write) =>
        JsonResponse.WriteAsync(http, status, write, truncate: false, http.RequestAborted);
}
