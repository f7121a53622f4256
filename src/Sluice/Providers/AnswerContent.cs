namespace Sluice.Providers;

/// <summary>
/// Tells from a 2xx answer's content type whether its body is held to being JSON. Only a JSON answer can be
/// "malformed" and worth another try; a file, audio, a zip or a plain-text transcription is the answer itself,
/// passed through untouched and never retried for its body (retrying a text-to-speech call would bill it again).
/// </summary>
internal static class AnswerContent
{
    /// <summary>Whether a 2xx body should be one well-formed JSON value.</summary>
    /// <param name="mediaType">
    /// The media type of the answer's <c>Content-Type</c> without parameters (<c>application/json</c>), or
    /// <see langword="null"/> when the answer has none.
    /// </param>
    /// <param name="body">The body, used only when there is no content type.</param>
    /// <returns>
    /// <see langword="true"/> for <c>application/json</c> and <c>application/*+json</c> (any case); for an answer
    /// without a content type, when its body starts (after a byte-order mark and whitespace) with <c>{</c> or
    /// <c>[</c>, as a cut-off JSON answer does; <see langword="false"/> for every other type, such as
    /// <c>application/octet-stream</c>, <c>audio/mpeg</c>, <c>text/plain</c>, <c>text/html</c> or
    /// <c>text/event-stream</c>.
    /// </returns>
    public static bool IsJson(string? mediaType, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrWhiteSpace(mediaType))
        {
            return StartsLikeJson(body);
        }

        var type = mediaType.AsSpan().Trim();
        return type.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
               (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private static bool StartsLikeJson(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        body = body.TrimStart(" \t\r\n"u8);
        return !body.IsEmpty && body[0] is (byte)'{' or (byte)'[';
    }
}
