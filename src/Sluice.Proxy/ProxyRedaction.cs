using System.Text;
using System.Text.RegularExpressions;

namespace Sluice.Proxy;

/// <summary>
/// Takes key-like text out of an upstream's error body before a client sees it, when the proxy holds the key: a
/// provider that rejects a key names it, masked (OpenAI's <c>Incorrect API key provided: sk-proj-****…6789</c>), and
/// even masked it tells every client part of the proxy's key and that the proxy's key is the one being rejected.
/// Replaced: the held key verbatim, and any <c>sk-…</c> token (OpenAI's and Anthropic's key forms, masked or not).
/// Only bodies that are valid UTF-8 are touched; anything else is passed as it came.
/// </summary>
internal static partial class ProxyRedaction
{
    /// <summary>What stands where a key was.</summary>
    public const string Replacement = "[redacted by sluice proxy]";

    /// <summary>The error body with key-like text replaced; the same array when there was none.</summary>
    public static byte[] Redact(byte[] body, string heldKey)
    {
        if (body.Length == 0 || !System.Text.Unicode.Utf8.IsValid(body))
        {
            return body;
        }

        string text = Encoding.UTF8.GetString(body);
        string redacted = heldKey.Length >= 8 ? text.Replace(heldKey, Replacement, StringComparison.Ordinal) : text;
        redacted = KeyLike().Replace(redacted, "$1" + Replacement);
        return ReferenceEquals(redacted, text) || redacted == text ? body : Encoding.UTF8.GetBytes(redacted);
    }

    // "sk-" not inside another token (task-sk-1 stays), then key characters and mask characters (* and the dots of "sk-abc...xyz"), not ending
    // in a dot so a sentence's full stop stays. Non-backtracking: linear in the body whatever it holds.
    [GeneratedRegex(@"(^|[^A-Za-z0-9_\-])sk-[A-Za-z0-9_\-\*\.]*[A-Za-z0-9_\-\*]", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant)]
    private static partial Regex KeyLike();
}
