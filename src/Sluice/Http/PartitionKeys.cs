using System.Security.Cryptography;
using System.Text;

namespace Sluice.Http;

/// <summary>
/// Names a request's partition: upstream host, a fingerprint of its credential, and its model. The credential itself
/// never appears: only the first 12 hex digits of its SHA-256, enough to tell keys apart, useless to an attacker.
/// </summary>
internal static class PartitionKeys
{
    private static readonly string[] CredentialHeaders = ["Authorization", "api-key", "x-api-key"];

    public static string For(HttpRequestMessage request, string? model)
    {
        string host = request.RequestUri?.IsAbsoluteUri == true ? request.RequestUri.Authority : "default";
        return $"{host}|key:{Fingerprint(request)}|{model ?? "default"}";
    }

    /// <summary>The model part of a key made by <see cref="For"/>.</summary>
    public static string ModelOf(string key) => key[(key.LastIndexOf('|') + 1)..];

    public static string Fingerprint(HttpRequestMessage request)
    {
        foreach (string header in CredentialHeaders)
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
