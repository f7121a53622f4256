using System.Net.Http.Headers;
using System.Text;
using CsCheck;

namespace Sluice.Tests.Providers;

/// <summary>Headers, clocks and generators shared by the provider tests.</summary>
internal static class ProviderTestKit
{
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Response headers holding exactly these raw values, unvalidated, as a server sent them.</summary>
    public static HttpResponseHeaders Headers(params (string Name, string Value)[] headers)
    {
        using var message = new HttpResponseMessage();
        foreach (var (name, value) in headers)
        {
            Assert.True(message.Headers.TryAddWithoutValidation(name, value), $"could not add {name}");
        }

        return message.Headers;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Every header Sluice reads, for feeding garbage to all of them at once.</summary>
    public static readonly string[] AllHeaderNames =
    [
        "retry-after", "retry-after-ms", "x-ms-retry-after-ms",
        "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
        "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
        .. new[] { "requests", "tokens", "input-tokens", "output-tokens" }
            .SelectMany(b => new[] { "limit", "remaining", "reset" }.Select(p => $"anthropic-ratelimit-{b}-{p}")),
    ];

    /// <summary>Any string at all, or one made of the characters header values are built from, so near-misses are tried too.</summary>
    public static readonly Gen<string> AnyText = Gen.OneOf(
        Gen.String,
        Gen.Char["0123456789.-+ hmsuµnTZ:,GMTSunNov"].Array[0, 24].Select(chars => new string(chars)));

    /// <summary>Random bytes, or JSON-ish text, so both the reader's first check and its deeper paths see nonsense.</summary>
    public static readonly Gen<byte[]> AnyBytes = Gen.OneOf(
        Gen.Byte.Array[0, 300],
        Gen.Char["{}[]\":,0123456789.-truefalsn \\u\"abcusage_tokenserormsg"].Array[0, 120].Select(chars => Encoding.UTF8.GetBytes(chars)));
}
