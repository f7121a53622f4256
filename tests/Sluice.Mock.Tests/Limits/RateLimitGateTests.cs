using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Sluice.Mock.Limits;
using Sluice.Mock.Stats;

namespace Sluice.Mock.Tests.Limits;

public class RateLimitGateTests
{
    private static readonly RequestCost OneToken = new(1, 0, SeparateInputOutput: false);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryAdmit_WhenRequestBudgetExhausted_RefusesWithTheTimeToRefillOne()
    {
        var (gate, _) = Create(new MockLimits { RequestsPerMinute = 5, Burst = TimeSpan.FromMinutes(1) });

        for (var i = 0; i < 5; i++)
        {
            Assert.True(gate.TryAdmit(OneToken).Admitted);
            gate.Release();
        }

        var refused = gate.TryAdmit(OneToken);

        Assert.Equal(Refusal.RateLimited, refused.Refusal);
        Assert.Equal(LimitDimension.Requests, refused.Dimension);
        Assert.Equal(5, refused.Limit);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(12.001));
        Assert.Equal(new DimensionState(5, 0, refused.Snapshot[LimitDimension.Requests]!.Value.ResetIn), refused.Snapshot[LimitDimension.Requests]);
        Assert.InRange(refused.Snapshot[LimitDimension.Requests]!.Value.ResetIn, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60.001));
    }

    [Fact]
    public void TryAdmit_AfterWaitingTheRetryTime_Admits()
    {
        var (gate, _) = Create(new MockLimits { RequestsPerMinute = 60 });
        Assert.True(gate.TryAdmit(OneToken).Admitted);
        var refused = gate.TryAdmit(OneToken);
        Assert.False(refused.Admitted);

        _time.Advance(refused.RetryAfter);

        Assert.True(gate.TryAdmit(OneToken).Admitted);
    }

    [Fact]
    public void TryAdmit_DefaultBurst_HoldsOneSecondOfTheBudget()
    {
        var (gate, _) = Create(new MockLimits { RequestsPerMinute = 600 });

        var admitted = 0;
        while (gate.TryAdmit(OneToken).Admitted)
        {
            admitted++;
        }

        Assert.Equal(10, admitted);
    }

    [Fact]
    public void TryAdmit_RefusedRequest_TakesNothingFromAnyBudget()
    {
        var (gate, _) = Create(new MockLimits { RequestsPerMinute = 120, TokensPerMinute = 600 });
        Assert.True(gate.TryAdmit(new RequestCost(5, 0, false)).Admitted);

        var refused = gate.TryAdmit(new RequestCost(6, 0, false));

        Assert.Equal(Refusal.RateLimited, refused.Refusal);
        Assert.Equal(LimitDimension.Tokens, refused.Dimension);
        Assert.Equal(1, refused.Snapshot[LimitDimension.Requests]!.Value.Remaining);
        Assert.Equal(5, refused.Snapshot[LimitDimension.Tokens]!.Value.Remaining);
    }

    [Fact]
    public void TryAdmit_Oversized_WaitsForAFullBucket_ThenLeavesADebt()
    {
        var (gate, _) = Create(new MockLimits { TokensPerMinute = 600 });
        Assert.True(gate.TryAdmit(OneToken).Admitted);

        var refused = gate.TryAdmit(new RequestCost(40, 10, false));
        Assert.Equal(Refusal.RateLimited, refused.Refusal);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(101));

        _time.Advance(refused.RetryAfter);
        var admitted = gate.TryAdmit(new RequestCost(40, 10, false));
        Assert.True(admitted.Admitted);
        Assert.Equal(0, admitted.Snapshot[LimitDimension.Tokens]!.Value.Remaining);

        var next = gate.TryAdmit(OneToken);
        Assert.InRange(next.RetryAfter, TimeSpan.FromSeconds(4.1), TimeSpan.FromSeconds(4.101));
    }

    [Fact]
    public void TryAdmit_OverTheWholeMinuteBudget_IsTooLargeWithoutARetryTime()
    {
        var (gate, _) = Create(new MockLimits { TokensPerMinute = 600 });

        var refused = gate.TryAdmit(new RequestCost(500, 101, false));

        Assert.Equal(Refusal.TooLarge, refused.Refusal);
        Assert.Equal(601, refused.Requested);
        Assert.Equal(600, refused.Limit);
        Assert.Equal(TimeSpan.Zero, refused.RetryAfter);
    }

    [Fact]
    public void TryAdmit_AtTheConcurrencyLimit_RefusesUntilARelease()
    {
        var (gate, _) = Create(new MockLimits { MaxConcurrency = 2 });
        Assert.True(gate.TryAdmit(OneToken).Admitted);
        Assert.True(gate.TryAdmit(OneToken).Admitted);

        var refused = gate.TryAdmit(OneToken);
        Assert.Equal(Refusal.Concurrency, refused.Refusal);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);

        gate.Release();
        Assert.True(gate.TryAdmit(OneToken).Admitted);
        Assert.Equal(2, gate.InFlight);
    }

    [Fact]
    public void TryAdmit_InputAndOutputBudgets_ApplyOnlyToRequestsThatDrawOnThem()
    {
        var (gate, _) = Create(new MockLimits { InputTokensPerMinute = 60, OutputTokensPerMinute = 120, Burst = TimeSpan.FromMinutes(1) });

        Assert.True(gate.TryAdmit(new RequestCost(1000, 1000, SeparateInputOutput: false)).Admitted);
        var admitted = gate.TryAdmit(new RequestCost(50, 100, SeparateInputOutput: true));
        Assert.True(admitted.Admitted);
        Assert.Equal(10, admitted.Snapshot[LimitDimension.InputTokens]!.Value.Remaining);
        Assert.Equal(20, admitted.Snapshot[LimitDimension.OutputTokens]!.Value.Remaining);

        var refused = gate.TryAdmit(new RequestCost(5, 30, SeparateInputOutput: true));
        Assert.Equal(LimitDimension.OutputTokens, refused.Dimension);
    }

    [Fact]
    public void SetLimits_LowersAndRaisesBudgetsFromNowOn()
    {
        var (gate, _) = Create(new MockLimits { RequestsPerMinute = 600 });

        gate.SetLimits(new MockLimits { RequestsPerMinute = 60 });
        Assert.Equal(1, gate.Peek()[LimitDimension.Requests]!.Value.Remaining);
        Assert.Equal(60, gate.Limits.RequestsPerMinute);

        gate.SetLimits(new MockLimits { RequestsPerMinute = 60, TokensPerMinute = 6000 });
        Assert.Equal(100, gate.Peek()[LimitDimension.Tokens]!.Value.Remaining);

        gate.SetLimits(new MockLimits());
        Assert.Null(gate.Peek()[LimitDimension.Requests]);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(gate.TryAdmit(OneToken).Admitted);
        }
    }

    [Fact]
    public void Refill_FillsEveryBucket()
    {
        var (gate, _) = Create(new MockLimits { RequestsPerMinute = 120 });
        gate.TryAdmit(OneToken);
        gate.TryAdmit(OneToken);
        Assert.False(gate.TryAdmit(OneToken).Admitted);

        gate.Refill();

        Assert.Equal(2, gate.Peek()[LimitDimension.Requests]!.Value.Remaining);
    }

    [Fact]
    public void TryAdmit_UnderRandomArrivals_NeverTripsTheBudgetAudit() =>
        Gen.Select(Gen.Int[0, 300].List[50, 400], Gen.Int[1, 600].List[1, 50], Gen.Int[0, 3]).Sample((gaps, costs, held) =>
        {
            var time = new FakeTimeProvider();
            var audit = new BudgetAudit(TimeSpan.FromSeconds(10), time.TimestampFrequency);
            var limits = new MockLimits { RequestsPerMinute = 240, TokensPerMinute = 6000, MaxConcurrency = held + 1, Burst = TimeSpan.FromSeconds(2) };
            var gate = new RateLimitGate(limits, time, audit);
            var inFlight = 0;
            for (var i = 0; i < gaps.Count; i++)
            {
                time.Advance(TimeSpan.FromMilliseconds(gaps[i]));
                if (gate.TryAdmit(new RequestCost(costs[i % costs.Count], 0, false)).Admitted)
                {
                    inFlight++;
                }

                // Up to 'held' requests stay in flight; the rest finish at once, so the budgets, not the
                // concurrency limit, decide most admissions.
                while (inFlight > held)
                {
                    gate.Release();
                    inFlight--;
                }
            }

            Assert.Equal(0, audit.Snapshot().Total);
        });

    [Fact]
    public void Release_OfAnAnthropicAnswer_RefundsTheUnusedOutputCap()
    {
        var (gate, audit) = Create(new MockLimits { OutputTokensPerMinute = 600, Burst = TimeSpan.FromMinutes(1) });
        var cost = new RequestCost(InputTokens: 10, OutputTokens: 500, SeparateInputOutput: true);
        Assert.True(gate.TryAdmit(cost).Admitted);
        Assert.Equal(100, gate.Peek()[LimitDimension.OutputTokens]!.Value.Remaining);

        gate.Release(cost, produced: 20);

        Assert.Equal(580, gate.Peek()[LimitDimension.OutputTokens]!.Value.Remaining);
        Assert.Equal(0, audit.Snapshot().Total);
    }

    [Fact]
    public void Release_WithoutAnAnswer_KeepsTheWholeCharge()
    {
        var (gate, _) = Create(new MockLimits { OutputTokensPerMinute = 600, Burst = TimeSpan.FromMinutes(1) });
        var cost = new RequestCost(InputTokens: 10, OutputTokens: 500, SeparateInputOutput: true);
        Assert.True(gate.TryAdmit(cost).Admitted);

        gate.Release(cost, produced: null);

        Assert.Equal(100, gate.Peek()[LimitDimension.OutputTokens]!.Value.Remaining);
    }

    [Fact]
    public void TryAdmit_WithRefundedOutput_NeverTripsTheBudgetAudit() =>
        Gen.Select(Gen.Int[0, 300].List[50, 300], Gen.Int[1, 400].List[1, 30], Gen.Int[0, 400].List[1, 30]).Sample((gaps, caps, produced) =>
        {
            var time = new FakeTimeProvider();
            var audit = new BudgetAudit(TimeSpan.FromSeconds(10), time.TimestampFrequency);
            var gate = new RateLimitGate(new MockLimits { OutputTokensPerMinute = 6000, TokensPerMinute = 9000, Burst = TimeSpan.FromSeconds(2) }, time, audit);
            var inFlight = new Queue<(RequestCost Cost, long Produced)>();
            for (var i = 0; i < gaps.Count; i++)
            {
                time.Advance(TimeSpan.FromMilliseconds(gaps[i]));
                var cost = new RequestCost(5, caps[i % caps.Count], SeparateInputOutput: true);
                if (gate.TryAdmit(cost).Admitted)
                {
                    inFlight.Enqueue((cost, Math.Min(cost.OutputTokens, produced[i % produced.Count])));
                }

                while (inFlight.Count > 2)
                {
                    var (ended, output) = inFlight.Dequeue();
                    gate.Release(ended, output);
                }
            }

            Assert.Equal(0, audit.Snapshot().Total);
        });

    private (RateLimitGate Gate, BudgetAudit Audit) Create(MockLimits limits)
    {
        var audit = new BudgetAudit(TimeSpan.FromMinutes(1), _time.TimestampFrequency);
        return (new RateLimitGate(limits, _time, audit), audit);
    }
}
