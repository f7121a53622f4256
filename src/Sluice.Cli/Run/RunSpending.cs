using System.Globalization;
using Microsoft.Extensions.Logging;
using Sluice.Cache;
using Sluice.Caching;
using Sluice.Cli.Common;
using Sluice.Spend;

namespace Sluice.Cli.Run;

/// <summary>
/// What a run spends and what it need not pay for again: its prices, its spend cap (<c>--max-spend</c>, counted over
/// the whole batch: what earlier runs of it spent is in the journal's lines), the worst case of its lines, and the
/// response cache it opens.
/// </summary>
internal sealed record RunSpending(PriceTable Prices, decimal? MaxSpend, decimal? WorstCase, string? CachePath, long CacheMaxBytes, TimeSpan CacheMaxAge)
{
    /// <summary>What earlier runs of this batch spent, read from the journal; counted against <see cref="MaxSpend"/>.</summary>
    public decimal EarlierSpent { get; init; }

    /// <summary>
    /// Opens the response cache, or null without one. A cache file that cannot be used (corrupted, another program's,
    /// unwritable) costs the run its cache, not the run: one warning line on <paramref name="error"/>, however many
    /// times the cache says so.
    /// </summary>
    public ResponseCache? OpenCache(TextWriter error, bool json, TimeProvider time)
    {
        if (CachePath is null)
        {
            return null;
        }

        var warnings = new OnceWarningLogger(error, json, time);
        var cache = SqliteResponseCache.Open(
            new SqliteResponseCacheOptions { Path = CachePath, MaxBytes = CacheMaxBytes, MaxAge = CacheMaxAge },
            warnings,
            time);

        // A cache that turned itself off without logging still says so once.
        if (cache.Statistics.DisabledReason is { } reason)
        {
            warnings.Warn($"the response cache {CachePath} is not used: {reason}");
        }

        return cache;
    }

    /// <summary>The summary's reason for a run stopped by its cap: the cap, what was spent and reserved, what is left.</summary>
    public string CapStopReason(SpendCapSnapshot stop, int linesLeft)
    {
        var inv = CultureInfo.InvariantCulture;
        string earlier = EarlierSpent > 0 ? string.Create(inv, $" ({SpendAmountText.Format(EarlierSpent)} of it by earlier runs)") : "";
        return string.Create(inv,
            $"the spend cap {SpendAmountText.Format(MaxSpend ?? stop.Limit)} is reached: when the next request's worst case would have passed it, " +
            $"{SpendAmountText.Format(EarlierSpent + stop.Settled)} was spent{earlier} and {SpendAmountText.Format(stop.Reserved)} reserved by requests in flight; {linesLeft:N0} lines left");
    }
}

/// <summary>
/// Writes the first warning the cache gives to standard error and no other: a cache that cannot be used says so in one
/// line, however many times (at open, at each read) the library notices it.
/// </summary>
internal sealed class OnceWarningLogger(TextWriter error, bool json, TimeProvider time) : ILogger
{
    private int _said;

    /// <summary>Whether a warning was written.</summary>
    public bool Said => Volatile.Read(ref _said) != 0;

    /// <summary>Writes <paramref name="message"/> unless a warning was written already.</summary>
    public void Warn(string message)
    {
        if (Interlocked.Exchange(ref _said, 1) != 0)
        {
            return;
        }

        error.WriteLine(json ? RunProgress.JsonMessage(time, "warning", message) : $"sluice run: warning: {TerminalText.Escape(message)}");
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (IsEnabled(logLevel))
        {
            Warn(formatter(state, exception));
        }
    }
}
