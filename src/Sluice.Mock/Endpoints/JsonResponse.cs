using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Sluice.Mock.Endpoints;

/// <summary>Writes a whole JSON answer, or on purpose only its first half.</summary>
internal static class JsonResponse
{
    // Providers send apostrophes and backticks as they are; the default encoder's \u0027 is valid but unlike them.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(
        HttpContext http, int status, Action<Utf8JsonWriter> write, bool truncate, CancellationToken cancellationToken)
    {
        var body = Serialize(write);
        if (truncate)
        {
            body = body[..(body.Length / 2)];
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
    }

    public static ReadOnlyMemory<byte> Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenMemory;
    }
}
