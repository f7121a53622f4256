using System.Security.Cryptography;
using System.Text;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// Names a request's partition, one format for every face: <c>scope|key:fingerprint|model group</c>. The scope is the
/// upstream (the host for <c>SluiceHandler</c> and <c>sluice run</c>, the upstream's name for the proxy); the
/// credential never appears, only the first 12 hex digits of its SHA-256, enough to tell keys apart and useless to an
/// attacker; the model group is the model, or the pattern of the configured group it falls in.
/// </summary>
/// <remarks>
/// A key appears in logs, metrics and status, and the model comes from the request body: a model group longer than
/// <see cref="MaxModelGroupLength"/> characters, or with a character outside printable ASCII or a <c>|</c>, is named by
/// its hash (<c>model#</c> and 12 hex digits), so a key is never longer than its scope plus 160 characters.
/// </remarks>
internal static class PartitionKeys
{
    /// <summary>The longest model group a key spells out; longer ones are hashed.</summary>
    public const int MaxModelGroupLength = 128;

    public static string For(string scope, string fingerprint, string? modelGroup) => $"{scope}|key:{fingerprint}|{Bounded(modelGroup ?? "default")}";

    /// <summary>The model group as a key spells it: itself when short and plain, else its hash.</summary>
    public static string Bounded(string modelGroup)
    {
        if (modelGroup.Length is > 0 and <= MaxModelGroupLength && !modelGroup.AsSpan().ContainsAnyExceptInRange(' ', '~') && !modelGroup.Contains('|', StringComparison.Ordinal))
        {
            return modelGroup;
        }

        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(modelGroup));
        return "model#" + Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }

    /// <summary>The scope a request gets when its face names none: the upstream's host and port.</summary>
    public static string DefaultScope(HttpRequestMessage request) =>
        request.RequestUri?.IsAbsoluteUri == true ? request.RequestUri.Authority : "default";

    /// <summary>The model-group part of a key made by <see cref="For"/>.</summary>
    public static string ModelGroupOf(string key) => key[(key.LastIndexOf('|') + 1)..];

    /// <summary>The fingerprint of the first credential header the request carries, or <c>none</c>.</summary>
    public static string Fingerprint(HttpRequestMessage request)
    {
        foreach (string header in ProviderCredentials.HeaderNames)
        {
            if (request.Headers.TryGetValues(header, out var values))
            {
                byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(',', values)));
                return Convert.ToHexStringLower(hash.AsSpan(0, 6));
            }
        }

        return "none";
    }
}
