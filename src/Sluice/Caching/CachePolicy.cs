using System.Text.Json;
using Sluice.Providers;

namespace Sluice.Caching;

/// <summary>Which requests ask for an answer that the same request would get again, so that caching it changes nothing.</summary>
public static class CachePolicy
{
    /// <summary>
    /// True only when the body states <c>temperature</c> 0 and asks for one choice (<c>n</c> absent or 1). An absent
    /// temperature means the provider's default (1 for OpenAI and Anthropic), so such a request is not deterministic.
    /// </summary>
    /// <param name="body">The request body.</param>
    /// <returns>Whether a cached answer stands for what the provider would answer.</returns>
    public static bool IsDeterministic(ReadOnlySpan<byte> body)
    {
        if (!JsonBody.TryParse(body, out var document))
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("temperature", out var temperature)
                || temperature.ValueKind != JsonValueKind.Number
                || !temperature.TryGetDouble(out double degrees)
                || degrees != 0)
            {
                return false;
            }

            return !root.TryGetProperty("n", out var choices)
                || (choices.ValueKind == JsonValueKind.Number && choices.TryGetInt64(out long n) && n == 1);
        }
    }
}
