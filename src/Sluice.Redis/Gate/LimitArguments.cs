using System.Globalization;
using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// A partition's configured limits as gate.lua reads them (ARGV 3 to 12): every call states them, so each process
/// holds its own configuration, and the script puts in force the strictest of it and what the provider stated.
/// </summary>
internal static class LimitArguments
{
    /// <summary>The op, the clock, the limits and the calling member: the first thirteen arguments of every call.</summary>
    public const int Count = 13;

    public static RedisValue[] Of(PartitionLimits limits)
    {
        double window = limits.Window.TotalSeconds;
        var args = new RedisValue[Count];
        args[2] = limits.LearnBudgets ? "1" : "0";
        args[3] = limits.MaxConcurrency;
        args[4] = Rate(limits.RequestsPerWindow, window);
        args[5] = limits.RequestBurst is { } rb ? rb : "";
        args[6] = Rate(limits.TokensPerWindow, window);
        args[7] = limits.TokenBurst is { } tb ? tb : "";
        args[8] = Rate(limits.InputTokensPerWindow, window);
        args[9] = Rate(limits.OutputTokensPerWindow, window);
        args[10] = limits.RequestsPerDay is { } rpd ? rpd : "";
        args[11] = limits.TokensPerDay is { } tpd ? tpd : "";
        return args;
    }

    /// <summary>A call's arguments: the limits, the op, the time and the member, then <paramref name="extra"/> slots for the op's own.</summary>
    public static RedisValue[] For(RedisValue[] limits, string op, long nowMs, string member, int extra)
    {
        var args = new RedisValue[Count + extra];
        Array.Copy(limits, args, Count);
        args[0] = op;
        args[1] = nowMs;
        args[12] = member;
        return args;
    }

    /// <summary>
    /// The share of <paramref name="limits"/> one of <paramref name="members"/> processes may use alone: every budget and
    /// the concurrency divided, at least 1. Only the public settings are carried over, and the concurrency is fixed: the
    /// in-process partition holding the share never hears the dispatcher (its outcomes and headers go to the shared
    /// partition, which sets the share's concurrency itself), so neither adaptive concurrency nor a wait for the first
    /// headers could ever learn or end there.
    /// </summary>
    public static PartitionLimits Share(PartitionLimits limits, int members, int concurrency)
    {
        members = Math.Max(1, members);
        return new PartitionLimits
        {
            MaxConcurrency = members <= 1 ? concurrency : Math.Max(1, concurrency / members),
            AdaptiveConcurrency = false,
            LearnBudgets = limits.LearnBudgets,
            Window = limits.Window,
            RequestsPerWindow = Divide(limits.RequestsPerWindow, members),
            TokensPerWindow = Divide(limits.TokensPerWindow, members),
            InputTokensPerWindow = Divide(limits.InputTokensPerWindow, members),
            OutputTokensPerWindow = Divide(limits.OutputTokensPerWindow, members),
            RequestsPerDay = Divide(limits.RequestsPerDay, members),
            TokensPerDay = Divide(limits.TokensPerDay, members),
            RequestBurst = Divide(limits.RequestBurst, members),
            TokenBurst = Divide(limits.TokenBurst, members),
            MaxQueueLength = limits.MaxQueueLength,
        };
    }

    /// <summary>
    /// <paramref name="limits"/> with every budget and the concurrency scaled by <paramref name="factor"/> (at least 1
    /// each): the part a process takes through Redis while other members may still be on their local share.
    /// </summary>
    public static PartitionLimits Scale(PartitionLimits limits, double factor)
    {
        var scaled = limits.Clone();
        scaled.MaxConcurrency = Math.Max(1, (int)(limits.MaxConcurrency * factor));
        scaled.RequestsPerWindow = Scale(limits.RequestsPerWindow, factor);
        scaled.TokensPerWindow = Scale(limits.TokensPerWindow, factor);
        scaled.InputTokensPerWindow = Scale(limits.InputTokensPerWindow, factor);
        scaled.OutputTokensPerWindow = Scale(limits.OutputTokensPerWindow, factor);
        scaled.RequestsPerDay = Scale(limits.RequestsPerDay, factor);
        scaled.TokensPerDay = Scale(limits.TokensPerDay, factor);
        scaled.RequestBurst = Scale(limits.RequestBurst, factor);
        scaled.TokenBurst = Scale(limits.TokenBurst, factor);
        return scaled;
    }

    private static int? Scale(int? value, double factor) => value is { } v ? Math.Max(1, (int)(v * factor)) : null;

    private static long? Scale(long? value, double factor) => value is { } v ? Math.Max(1, (long)(v * factor)) : null;

    private static RedisValue Rate(long? perWindow, double windowSeconds) =>
        perWindow is { } amount ? (amount / windowSeconds).ToString("R", CultureInfo.InvariantCulture) : "";

    private static int? Divide(int? value, int members) => value is { } v ? Math.Max(1, v / members) : null;

    private static long? Divide(long? value, int members) => value is { } v ? Math.Max(1, v / members) : null;
}
