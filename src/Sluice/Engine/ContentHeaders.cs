using System.Net.Http.Headers;

namespace Sluice.Engine;

/// <summary>Moves the headers that describe a body between contents, for the bodies the engine buffers or wraps.</summary>
internal static class ContentHeaders
{
    /// <summary>Replaces a response's content with its buffered bytes, keeping its content headers.</summary>
    public static void Rebuffer(HttpResponseMessage response, byte[] body)
    {
        var buffered = new ByteArrayContent(body);
        Copy(response.Content.Headers, buffered.Headers);
        response.Content.Dispose();
        response.Content = buffered;
    }

    /// <summary>Copies the headers that describe a body, all but its length, which the new content states itself.</summary>
    public static void Copy(IEnumerable<KeyValuePair<string, IEnumerable<string>>> from, HttpContentHeaders to)
    {
        foreach (var header in from)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                to.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }
}
