using Sluice.Gate;

namespace Sluice.Cli.Common;

/// <summary>Where a budget comes from, in words: the same names in <c>sluice run --json</c> events and the proxy's status.</summary>
internal static class BudgetSourceNames
{
    /// <summary>The source's name in JSON: <c>configured</c>, <c>headers</c>, <c>learned_from_429s</c> or <c>none</c>.</summary>
    public static string Json(BudgetSource source) => source switch
    {
        BudgetSource.Configured => "configured",
        BudgetSource.Headers => "headers",
        BudgetSource.Throttling => "learned_from_429s",
        _ => "none",
    };

    /// <summary>The source for people: <c>configured</c>, <c>from headers</c>, <c>learned from 429s</c> or <c>none</c>.</summary>
    public static string Text(BudgetSource source) => source switch
    {
        BudgetSource.Configured => "configured",
        BudgetSource.Headers => "from headers",
        BudgetSource.Throttling => "learned from 429s",
        _ => "none",
    };
}
