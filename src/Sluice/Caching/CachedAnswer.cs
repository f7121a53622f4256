using Sluice.Providers;

namespace Sluice.Caching;

/// <summary>A provider's answer as a <see cref="ResponseCache"/> keeps it, to be replayed instead of sent again.</summary>
public sealed record CachedAnswer
{
    /// <summary>The answer's HTTP status code (a 2xx: only successes are stored).</summary>
    public required int StatusCode { get; init; }

    /// <summary>The answer's <c>Content-Type</c> header as received, or <see langword="null"/> when it had none.</summary>
    public string? ContentType { get; init; }

    /// <summary>
    /// The body: the JSON as received for a buffered answer, or for a stream the server-sent-events bytes exactly as
    /// they arrived, terminator included.
    /// </summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>True when <see cref="Body"/> is a stream's bytes, replayed as a stream.</summary>
    public bool IsStream { get; init; }

    /// <summary>The tokens the answer reported when it was paid for.</summary>
    public TokenUsage Usage { get; init; }

    /// <summary>What the answer cost when it was paid for, in USD; <see langword="null"/> when its model had no price.</summary>
    public decimal? Cost { get; init; }

    /// <summary>When the answer was stored.</summary>
    public required DateTimeOffset StoredAt { get; init; }
}
