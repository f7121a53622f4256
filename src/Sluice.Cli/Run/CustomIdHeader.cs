using System.Buffers;
using System.Text;

namespace Sluice.Cli.Run;

/// <summary>
/// The <c>X-Sluice-Custom-Id</c> request header: a batch line's <c>custom_id</c>, percent-encoded as UTF-8 (as a URI
/// component is) so that any Unicode id travels in a header, which may only hold visible ASCII. Visible ASCII other
/// than <c>%</c> is sent as it is, so the ids most files use (<c>post-17</c>) read the same; everything else — spaces,
/// <c>%</c>, non-ASCII, and any control character, though validation refuses those — becomes <c>%XX</c> per byte.
/// <see cref="Uri.UnescapeDataString(string)"/> gives the id back.
/// </summary>
internal static class CustomIdHeader
{
    public const string Name = "X-Sluice-Custom-Id";

    private static readonly SearchValues<char> Kept = SearchValues.Create(
        [.. Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(c => (char)c).Where(c => c != '%')]);

    public static string Encode(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!id.AsSpan().ContainsAnyExcept(Kept))
        {
            return id;
        }

        var encoded = new StringBuilder(id.Length * 3);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in id.EnumerateRunes())
        {
            if (rune.IsAscii && Kept.Contains((char)rune.Value))
            {
                encoded.Append((char)rune.Value);
                continue;
            }

            // A lone surrogate (validation refuses it) is encoded as U+FFFD, as UTF-8 must.
            int length = rune.EncodeToUtf8(bytes);
            foreach (byte b in bytes[..length])
            {
                encoded.Append('%').Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xF]);
            }
        }

        return encoded.ToString();
    }

    private const string HexDigits = "0123456789ABCDEF";
}
