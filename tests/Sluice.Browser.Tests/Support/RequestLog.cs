using System.Collections.Concurrent;

namespace Sluice.Browser.Tests.Support;

/// <summary>Every request a page made: its URL and headers, in order.</summary>
internal sealed class RequestLog
{
    private readonly ConcurrentQueue<(string Url, IReadOnlyDictionary<string, string> Headers)> _requests = new();

    public void Add(string url, IDictionary<string, string>? headers) =>
        _requests.Enqueue((url, new Dictionary<string, string>(headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)));

    public IReadOnlyList<(string Url, IReadOnlyDictionary<string, string> Headers)> All => [.. _requests];
}
