using Sluice.Mock.Stats;

namespace Sluice.Mock.Tests.Stats;

public class WindowAuditTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;

    [Fact]
    public void Record_ExactlyTheBudget_IsNoViolation()
    {
        var audit = Create(perMinute: 60, burst: TimeSpan.FromSeconds(1));

        // A full bucket of one, then one a second: 61 in every closed one-minute window, which is the bound.
        for (var second = 0; second <= 180; second++)
        {
            audit.Record(At(second), 1);
        }

        Assert.Equal(0, audit.Violations);
    }

    [Fact]
    public void Record_OneMoreThanTheBudget_IsAViolation()
    {
        var audit = Create(perMinute: 60, burst: TimeSpan.FromSeconds(1));
        for (var second = 0; second <= 60; second++)
        {
            audit.Record(At(second), 1);
        }

        audit.Record(At(60), 1);

        Assert.Equal(1, audit.Violations);
    }

    [Fact]
    public void Record_AllowsOneOversizedRequestFromAFullBucket_ThenItsRepayment()
    {
        var audit = Create(perMinute: 600, burst: TimeSpan.FromSeconds(1));

        audit.Record(At(0), 500);
        audit.Record(At(49.1), 1);

        Assert.Equal(0, audit.Violations);
    }

    [Fact]
    public void Record_BeforeTheOversizedDebtIsRepaid_IsAViolation()
    {
        var audit = Create(perMinute: 600, burst: TimeSpan.FromSeconds(1));

        audit.Record(At(0), 500);
        audit.Record(At(49), 2);

        Assert.Equal(1, audit.Violations);
    }

    [Fact]
    public void Record_FollowsBudgetChangesWithinTheWindow()
    {
        var audit = Create(perMinute: 600, burst: TimeSpan.FromSeconds(1));
        audit.Record(At(0), 10);
        audit.Configure(At(1), 60, TimeSpan.FromSeconds(1));

        // Ten a second until 1s, then one a second: over [0s, 31s] at most 10 (capacity) + 10 + 30 (refill),
        // plus the debt of an oversized last request (the 30 is one, the 1 after it is not).
        audit.Record(At(1), 10);
        audit.Record(At(31), 30);
        Assert.Equal(0, audit.Violations);

        audit.Record(At(31), 1);
        Assert.Equal(1, audit.Violations);
    }

    [Fact]
    public void Record_WhileUnlimited_IsNotCounted_AndANewBudgetStartsFresh()
    {
        var audit = new WindowAudit(TimeSpan.FromMinutes(1), Frequency);
        audit.Configure(At(0), null, TimeSpan.FromSeconds(1));
        audit.Record(At(0), 1_000_000);

        audit.Configure(At(1), 60, TimeSpan.FromSeconds(1));
        audit.Record(At(1), 1);

        Assert.False(new WindowAudit(TimeSpan.FromMinutes(1), Frequency).IsActive);
        Assert.Equal(0, audit.Violations);
    }

    [Fact]
    public void Restart_ForgetsEarlierAdmissions()
    {
        var audit = Create(perMinute: 60, burst: TimeSpan.FromSeconds(1));
        audit.Record(At(0), 1);

        audit.Restart(At(0.5));
        audit.Record(At(0.5), 1);

        Assert.Equal(0, audit.Violations);
    }

    private static WindowAudit Create(int perMinute, TimeSpan burst)
    {
        var audit = new WindowAudit(TimeSpan.FromMinutes(1), Frequency);
        audit.Configure(0, perMinute, burst);
        return audit;
    }

    private static long At(double seconds) => (long)(seconds * Frequency);
}
