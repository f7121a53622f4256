using System.Text;
using System.Text.Json;

namespace Sluice.Providers;

/// <summary>
/// Reads single lines of a server-sent event stream (<c>field: value</c>), as providers write them: <c>data: {json}</c>,
/// <c>data: [DONE]</c>, <c>event: message_stop</c>. A line may still carry its <c>\r\n</c>.
/// </summary>
internal static class SseLine
{
    /// <summary>The value of a line's field when the line is that field, such as the JSON after <c>data: </c>.</summary>
    /// <param name="line">One line of the stream.</param>
    /// <param name="field">The field's name, such as <c>data</c> or <c>event</c>.</param>
    /// <param name="value">The value, without the one optional space after the colon and without the line end.</param>
    /// <returns>Whether the line is that field.</returns>
    public static bool TryGetField(ReadOnlySpan<byte> line, ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        value = default;
        line = line.TrimEnd("\r\n"u8);
        if (!line.StartsWith(field) || line.Length == field.Length || line[field.Length] != (byte)':')
        {
            return false;
        }

        value = line[(field.Length + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        value = value.TrimEnd((byte)' ');
        return true;
    }

    /// <summary>The value of a <c>data:</c> line, or <see langword="false"/> for any other line.</summary>
    /// <param name="line">One line of the stream.</param>
    /// <param name="payload">The bytes after <c>data: </c>.</param>
    /// <returns>Whether the line is a data line.</returns>
    public static bool TryGetData(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> payload) => TryGetField(line, "data"u8, out payload);

    /// <summary>The top-level <c>type</c> of a JSON data payload, such as <c>message_stop</c> or <c>response.completed</c>.</summary>
    /// <param name="payload">The bytes after <c>data: </c>.</param>
    /// <returns>The type, or <see langword="null"/> when the payload is not a JSON object with a string type.</returns>
    public static string? EventType(ReadOnlySpan<byte> payload) =>
        payload.IsEmpty || payload[0] != (byte)'{' || payload.IndexOf("\"type\""u8) < 0   // most chunks have none: skip the scan
            ? null
            : JsonBody.ReadTopLevel(payload, "type"u8, static (ref Utf8JsonReader reader) => JsonBody.StringOf(ref reader));

    /// <summary>
    /// The event a line announces: the name of an <c>event:</c> line, or the JSON <c>type</c> of a <c>data:</c> line
    /// (providers repeat the event's name there, and some proxies drop <c>event:</c> lines).
    /// </summary>
    /// <param name="line">One line of the stream.</param>
    /// <returns>The event's name, or <see langword="null"/>.</returns>
    public static string? EventName(ReadOnlySpan<byte> line)
    {
        if (TryGetField(line, "event"u8, out var name))
        {
            return Encoding.UTF8.GetString(name);
        }

        return TryGetData(line, out var payload) ? EventType(payload) : null;
    }
}
