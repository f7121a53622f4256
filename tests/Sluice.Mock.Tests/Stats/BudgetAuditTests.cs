using Sluice.Mock.Limits;
using Sluice.Mock.Stats;

namespace Sluice.Mock.Tests.Stats;

public class BudgetAuditTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;

    [Fact]
    public void Admitted_CountsEachBudgetItDrawsOn()
    {
        var audit = new BudgetAudit(TimeSpan.FromMinutes(1), Frequency);
        audit.LimitsChanged(0, new MockLimits
        {
            RequestsPerMinute = 60, TokensPerMinute = 60, InputTokensPerMinute = 60, OutputTokensPerMinute = 60,
        });

        // Two requests at once, each over every one-request, one-token burst.
        audit.Admitted(0, new RequestCost(1, 1, SeparateInputOutput: true));
        audit.Admitted(0, new RequestCost(1, 1, SeparateInputOutput: true));

        var violations = audit.Snapshot();
        Assert.Equal(1, violations.Requests);
        Assert.Equal(1, violations.Tokens);
        Assert.Equal(1, violations.InputTokens);
        Assert.Equal(1, violations.OutputTokens);
        Assert.Equal(4, violations.Total);
    }

    [Fact]
    public void Admitted_BeyondTheConcurrencyLimit_IsAViolation()
    {
        var audit = new BudgetAudit(TimeSpan.FromMinutes(1), Frequency);
        audit.LimitsChanged(0, new MockLimits { MaxConcurrency = 1 });
        var cost = new RequestCost(1, 0, false);

        audit.Admitted(0, cost);
        audit.Released();
        audit.Admitted(0, cost);
        Assert.Equal(0, audit.Snapshot().Concurrency);

        audit.Admitted(0, cost);
        Assert.Equal(1, audit.Snapshot().Concurrency);
    }

    [Fact]
    public void ResetViolations_ZeroesTheCounts()
    {
        var audit = new BudgetAudit(TimeSpan.FromMinutes(1), Frequency);
        audit.LimitsChanged(0, new MockLimits { RequestsPerMinute = 60 });
        audit.Admitted(0, new RequestCost(1, 0, false));
        audit.Admitted(0, new RequestCost(1, 0, false));
        Assert.Equal(1, audit.Snapshot().Total);

        audit.ResetViolations();

        Assert.Equal(0, audit.Snapshot().Total);
    }
}
