using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Gate;

namespace Sluice.Cli.Run;

/// <summary>
/// The limits a run is paced by at one instant, summed over its partitions (one per model): the request and token
/// budgets in force and where they come from (configured, the provider's headers, or learned from 429s), the input
/// and output token budgets where there are any, and the concurrency limit.
/// </summary>
internal readonly record struct RunLimits(
    double? RequestsPerMinute,
    BudgetSource RequestSource,
    double? TokensPerMinute,
    BudgetSource TokenSource,
    int Concurrency,
    bool Adaptive)
{
    public static RunLimits Of(IEnumerable<PartitionSnapshot> partitions)
    {
        double? requests = null, tokens = null;
        BudgetSource requestSource = BudgetSource.None, tokenSource = BudgetSource.None;
        int concurrency = 0;
        bool adaptive = false;
        (double? PerMinute, BudgetSource Source) input = (null, BudgetSource.None), output = (null, BudgetSource.None);
        foreach (var p in partitions)
        {
            foreach (var budget in p.Budgets)
            {
                if (budget.Dimension == BudgetDimension.InputTokens)
                {
                    input = ((input.PerMinute ?? 0) + budget.Limit, input.Source == BudgetSource.None ? budget.Source : input.Source);
                }
                else if (budget.Dimension == BudgetDimension.OutputTokens)
                {
                    output = ((output.PerMinute ?? 0) + budget.Limit, output.Source == BudgetSource.None ? budget.Source : output.Source);
                }
            }

            requests = p.RequestsPerMinute is { } r ? (requests ?? 0) + r : requests;
            tokens = p.TokensPerMinute is { } t ? (tokens ?? 0) + t : tokens;
            requestSource = requestSource == BudgetSource.None ? p.RequestBudgetSource : requestSource;
            tokenSource = tokenSource == BudgetSource.None ? p.TokenBudgetSource : tokenSource;
            concurrency += p.ConcurrencyLimit;
            adaptive |= p.AdaptiveConcurrency;
        }

        return new RunLimits(requests, requestSource, tokens, tokenSource, concurrency, adaptive)
        {
            InputTokensPerMinute = input.PerMinute,
            InputSource = input.Source,
            OutputTokensPerMinute = output.PerMinute,
            OutputSource = output.Source,
        };
    }

    /// <summary>The input-token budget in force (Anthropic's ITPM), per minute; null when none.</summary>
    public double? InputTokensPerMinute { get; init; }

    public BudgetSource InputSource { get; init; }

    /// <summary>The output-token budget in force (Anthropic's OTPM), per minute; null when none.</summary>
    public double? OutputTokensPerMinute { get; init; }

    public BudgetSource OutputSource { get; init; }

    /// <summary>
    /// The request budget to judge efficiency by: one the provider or the user stated. A rate learned from 429s is
    /// Sluice's own estimate, still probing upward, so it is no yardstick.
    /// </summary>
    public double? StatedRequestsPerMinute => RequestSource is BudgetSource.Configured or BudgetSource.Headers ? RequestsPerMinute : null;

    /// <summary>Whole numbers, for telling whether the limits changed enough to report.</summary>
    public RunLimits Rounded() => this with
    {
        RequestsPerMinute = RequestsPerMinute is { } r ? Math.Round(r) : null,
        TokensPerMinute = TokensPerMinute is { } t ? Math.Round(t) : null,
        InputTokensPerMinute = InputTokensPerMinute is { } i ? Math.Round(i) : null,
        OutputTokensPerMinute = OutputTokensPerMinute is { } o ? Math.Round(o) : null,
    };

    /// <summary>For people: <c>1,500 rpm (headers) · no token budget · 12 at once (auto)</c>.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        string requests = RequestsPerMinute is { } r ? string.Create(inv, $"{r:N0} rpm ({BudgetSourceNames.Text(RequestSource)})") : "no request budget";
        string tokens = TokensPerMinute is { } t ? string.Create(inv, $"{t:N0} tpm ({BudgetSourceNames.Text(TokenSource)})") : "no token budget";
        string concurrency = string.Create(inv, $"{Concurrency:N0} at once{(Adaptive ? " (auto)" : "")}");
        string input = InputTokensPerMinute is { } it ? string.Create(inv, $" · {it:N0} input tpm ({BudgetSourceNames.Text(InputSource)})") : "";
        string output = OutputTokensPerMinute is { } ot ? string.Create(inv, $" · {ot:N0} output tpm ({BudgetSourceNames.Text(OutputSource)})") : "";
        return $"{requests} · {tokens}{input}{output} · {concurrency}";
    }
}
