using Sluice.Cli.Common;

namespace Sluice.Cli.Run;

/// <summary>
/// The checks of <c>--max-spend</c>, <c>--prices</c>, <c>--dry-run</c> and the cache options that need no file read:
/// combinations that contradict each other and values out of range, each one sentence naming the value.
/// </summary>
internal static class RunSpendChecks
{
    /// <summary>The smallest cache worth keeping: a few thousand answers.</summary>
    public const long MinCacheBytes = 1L << 20;

    /// <summary>What is wrong with the spend and cache options, or null.</summary>
    public static string? Problem(RunArguments arguments)
    {
        if (arguments.NoCache && arguments.Cache is { } cache)
        {
            return $"--cache {cache} and --no-cache contradict each other; give one of them";
        }

        if (arguments.CacheMaxBytes is { } bytes && bytes < MinCacheBytes)
        {
            return $"--cache-max-size must be at least 1MB, not {ByteSizeText.Format(bytes)}";
        }

        if (arguments.CacheMaxAge is { } age && age > TimeSpan.FromDays(3_650))
        {
            return $"--cache-max-age must be at most 3650d (ten years), not {LongDurationText.Format(age)}";
        }

        if (arguments.Batch is not null)
        {
            // Each worker of a shared batch would hold a cap of its own: the batch could spend the cap once per machine.
            if (arguments.MaxSpend is not null)
            {
                return "--max-spend does not apply to a shared batch (--batch): each worker would hold its own cap; cap each worker's run without --batch, or use the provider's own spending limit";
            }

            if (arguments.Cache is not null)
            {
                return "--cache does not apply to a shared batch (--batch): its answers are recorded in Redis; run without --batch to use a response cache";
            }
        }

        return null;
    }
}
