using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Sluice.Mock.Endpoints;

/// <summary>
/// Writes server-sent events, flushing each one so the client sees it when it is sent: OpenAI's
/// <c>data: {json}</c> lines and Anthropic's <c>event: name</c> + <c>data: {json}</c> pairs.
/// </summary>
internal sealed class EventStreamWriter(HttpContext http, CancellationToken cancellationToken)
{
    private static readonly byte[] Data = "data: "u8.ToArray();
    private static readonly byte[] EndOfEvent = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>Sends the status and headers at once, as providers do before the first token.</summary>
    public async Task StartAsync()
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One <c>data:</c> event, optionally preceded by an <c>event:</c> name, optionally cut mid-JSON.</summary>
    public async Task WriteAsync(string? eventName, Action<Utf8JsonWriter> write, bool truncate = false)
    {
        var json = JsonResponse.Serialize(write);
        if (truncate)
        {
            json = json[..(json.Length / 2)];
        }

        var body = http.Response.Body;
        if (eventName is not null)
        {
            await body.WriteAsync(Encoding.UTF8.GetBytes($"event: {eventName}\n"), cancellationToken).ConfigureAwait(false);
        }

        await body.WriteAsync(Data, cancellationToken).ConfigureAwait(false);
        await body.WriteAsync(json, cancellationToken).ConfigureAwait(false);
        await body.WriteAsync(EndOfEvent, cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteDoneAsync()
    {
        await http.Response.Body.WriteAsync(Done, cancellationToken).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
