using System.Globalization;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Requests;
using Sluice.Text;

namespace Sluice.Mock.Limits;

/// <summary>
/// Writes the providers' rate-limit headers. OpenAI: <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c>
/// with resets as durations (<c>6m0s</c>). Anthropic: <c>anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}</c>
/// with resets as RFC 3339 instants. Only configured budgets are reported.
/// </summary>
internal static class RateLimitHeaders
{
    public static void Write(IHeaderDictionary headers, Provider provider, RateLimitSnapshot snapshot)
    {
        if (provider == Provider.OpenAI)
        {
            WriteOpenAI(headers, "requests", snapshot[LimitDimension.Requests]);
            WriteOpenAI(headers, "tokens", snapshot[LimitDimension.Tokens]);
            return;
        }

        WriteAnthropic(headers, "requests", snapshot[LimitDimension.Requests], snapshot.Now);
        WriteAnthropic(headers, "tokens", MostRestrictiveTokens(snapshot), snapshot.Now);
        WriteAnthropic(headers, "input-tokens", snapshot[LimitDimension.InputTokens], snapshot.Now);
        WriteAnthropic(headers, "output-tokens", snapshot[LimitDimension.OutputTokens], snapshot.Now);
    }

    /// <summary>
    /// <c>retry-after</c> in whole seconds, rounded up; OpenAI also sends <c>retry-after-ms</c>. Nothing when
    /// waiting cannot help.
    /// </summary>
    public static void WriteRetryAfter(IHeaderDictionary headers, Provider provider, TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        var seconds = (wait.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        headers["retry-after"] = seconds.ToString(CultureInfo.InvariantCulture);
        if (provider == Provider.OpenAI)
        {
            var milliseconds = (wait.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
            headers["retry-after-ms"] = milliseconds.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Formats an instant the way Anthropic's reset headers do, rounded up to the second.</summary>
    public static string FormatInstant(DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        var whole = new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        if (whole < utc)
        {
            whole = whole.AddSeconds(1);
        }

        return whole.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    private static void WriteOpenAI(IHeaderDictionary headers, string name, DimensionState? state)
    {
        if (state is not { } s)
        {
            return;
        }

        headers[$"x-ratelimit-limit-{name}"] = s.Limit.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-remaining-{name}"] = s.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-reset-{name}"] = DurationText.Format(s.ResetIn);
    }

    private static void WriteAnthropic(IHeaderDictionary headers, string name, DimensionState? state, DateTimeOffset now)
    {
        if (state is not { } s)
        {
            return;
        }

        headers[$"anthropic-ratelimit-{name}-limit"] = s.Limit.ToString(CultureInfo.InvariantCulture);
        headers[$"anthropic-ratelimit-{name}-remaining"] = s.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[$"anthropic-ratelimit-{name}-reset"] = FormatInstant(now + s.ResetIn);
    }

    // Anthropic's tokens-* headers describe whichever token limit is most restrictive right now.
    private static DimensionState? MostRestrictiveTokens(RateLimitSnapshot snapshot)
    {
        DimensionState? chosen = null;
        foreach (var dimension in new[] { LimitDimension.Tokens, LimitDimension.InputTokens, LimitDimension.OutputTokens })
        {
            if (snapshot[dimension] is { } state &&
                (chosen is not { } best || state.Remaining < best.Remaining ||
                 (state.Remaining == best.Remaining && state.Limit < best.Limit)))
            {
                chosen = state;
            }
        }

        return chosen;
    }
}
