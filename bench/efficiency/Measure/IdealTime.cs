using Sluice.Efficiency.Scenarios;

namespace Sluice.Efficiency.Measure;

/// <summary>
/// The shortest time a client could finish a workload in under a budget schedule, as issue 8 defines it: the time
/// the binding budget needs to pay for every request once (requests ÷ request budget, or tokens ÷ token budget,
/// whichever is longer), plus the mean latency of one answer.
/// </summary>
/// <remarks>
/// With budgets that change, each budget is a piecewise-constant rate: the time for an amount <c>A</c> is the
/// <c>t</c> at which the integral of the rate from 0 to <c>t</c> reaches <c>A</c>. For the budget-change scenario
/// (rate <c>r</c>, halved at <c>T0/3</c>, restored at <c>2·T0/3</c>, where <c>T0 = n/r</c>) that is
/// <c>T0/3 + T0/3 + (n − r·T0/3 − r/2·T0/3)/r = 7/6·T0</c>. The bucket a provider starts full (one second of
/// budget at the mock's default burst) is ignored, as the definition ignores it: a perfect client can beat
/// this ideal by up to a second, so efficiency can slightly exceed 1.
/// </remarks>
internal static class IdealTime
{
    /// <summary>The ideal wall time for <paramref name="requests"/> requests costing <paramref name="tokens"/> tokens in all.</summary>
    public static TimeSpan For(int requests, long tokens, IReadOnlyList<BudgetStep> schedule, TimeSpan meanLatency)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        double byRequests = SecondsToPay(requests, schedule, step => step.RequestsPerMinute);
        double byTokens = SecondsToPay(tokens, schedule, step => step.TokensPerMinute);
        return TimeSpan.FromSeconds(Math.Max(byRequests, byTokens)) + meanLatency;
    }

    /// <summary>Efficiency: ideal ÷ wall, so 1 is as fast as the budget allows.</summary>
    public static double Efficiency(TimeSpan ideal, TimeSpan wall) =>
        wall <= TimeSpan.Zero ? 0 : ideal.TotalSeconds / wall.TotalSeconds;

    /// <summary>
    /// Seconds until a budget that refills at each step's rate (per minute) has paid <paramref name="amount"/>;
    /// 0 when the budget is unlimited throughout, infinity when it is unlimited nowhere and runs out.
    /// </summary>
    public static double SecondsToPay(double amount, IReadOnlyList<BudgetStep> schedule, Func<BudgetStep, int?> perMinute)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (amount <= 0 || schedule.All(step => perMinute(step) is null))
        {
            return 0;
        }

        double paid = 0;
        for (int i = 0; i < schedule.Count; i++)
        {
            double start = schedule[i].At.TotalSeconds;
            double end = i + 1 < schedule.Count ? schedule[i + 1].At.TotalSeconds : double.PositiveInfinity;
            if (perMinute(schedule[i]) is not { } budget)
            {
                // An unlimited stretch pays whatever is left at once.
                return start;
            }

            double rate = budget / 60.0;
            double needed = (amount - paid) / rate;
            if (start + needed <= end)
            {
                return start + needed;
            }

            paid += rate * (end - start);
        }

        return double.PositiveInfinity;
    }
}
