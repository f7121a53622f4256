using System.Collections.Concurrent;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// Runs the caller's credential-refresh hook once per rejected credential, however many requests were rejected
/// with it, and then puts the new credential on every request that still carries the old one — SDKs keep sending
/// the key they were built with. Refreshes run one at a time: the point is that the hook runs once.
/// </summary>
internal sealed class CredentialRefresher(Func<HttpRequestMessage, CancellationToken, ValueTask<bool>> hook) : IDisposable
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly ConcurrentDictionary<string, KeyValuePair<string, string[]>[]> _replacements = new(StringComparer.Ordinal);

    /// <summary>Replaces a credential already refreshed with its successor, as often as it was refreshed.</summary>
    public void Apply(HttpRequestMessage request)
    {
        for (int hops = 0; hops < 8 && _replacements.TryGetValue(PartitionKeys.Fingerprint(request), out var fresh); hops++)
        {
            foreach (string name in ProviderCredentials.HeaderNames)
            {
                request.Headers.Remove(name);
            }

            foreach (var (name, values) in fresh)
            {
                request.Headers.TryAddWithoutValidation(name, values);
            }
        }
    }

    /// <summary>
    /// After <paramref name="request"/> was rejected with the credential <paramref name="rejected"/>: gives it a
    /// fresh one, calling the hook only if nobody has refreshed that credential yet.
    /// </summary>
    /// <returns>True when the request now carries a different credential and should be sent again.</returns>
    public async ValueTask<bool> RefreshAsync(HttpRequestMessage request, string rejected, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_replacements.ContainsKey(rejected) && await hook(request, cancellationToken).ConfigureAwait(false))
            {
                string fresh = PartitionKeys.Fingerprint(request);
                if (fresh != rejected)
                {
                    _replacements[rejected] = [.. ProviderCredentials.HeaderNames
                        .Where(name => request.Headers.Contains(name))
                        .Select(name => KeyValuePair.Create(name, request.Headers.GetValues(name).ToArray()))];
                }
            }

            Apply(request);
            return PartitionKeys.Fingerprint(request) != rejected;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();
}
