using System.Security.Cryptography;
using System.Text;

namespace Sluice.Mock.Faults;

/// <summary>
/// Simulates an expiring credential: each credential serves a fixed number of requests, then gets 401 until a
/// request brings a different one. Only a hash of the credential is kept, so the key never sits in memory
/// longer than the request that carried it.
/// </summary>
internal sealed class CredentialExpiry(int? requestsPerCredential)
{
    private readonly Lock _lock = new();
    private byte[] _current = [];
    private int _served;

    /// <summary>Whether this request's credential has expired; otherwise counts the request against it.</summary>
    public bool IsExpired(string? credential)
    {
        if (requestsPerCredential is not int limit)
        {
            return false;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(credential ?? ""));
        lock (_lock)
        {
            if (!hash.AsSpan().SequenceEqual(_current))
            {
                _current = hash;
                _served = 0;
            }

            if (_served >= limit)
            {
                return true;
            }

            _served++;
            return false;
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _current = [];
            _served = 0;
        }
    }
}
