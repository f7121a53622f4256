using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Input, output and per-day budgets: each reserved at admission, waited for, settled and learned on its own.</summary>
public sealed class BudgetDimensionTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public void Acquire_WhenInputBudgetExhausted_WaitsForTheInputItNeeds()
    {
        // 6,000 input tokens a minute: 100 a second, and the bucket holds one second's worth.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { InputTokensPerWindow = 6000 });
        partition.Enter(new AdmissionRequest { InputTokens = 80 }).Admitted();

        var second = partition.Enter(new AdmissionRequest { InputTokens = 60 });
        time.Advance(TimeSpan.FromMilliseconds(400) - Tick);
        second.AssertWaiting();
        time.Advance(Tick);

        Assert.Equal(TimeSpan.FromMilliseconds(400), second.Admitted().WaitTime);
    }

    [Fact]
    public void Acquire_WhenOutputBudgetExhausted_WaitsForTheOutputCap()
    {
        // 600 output tokens a minute: 10 a second, 10 held. A cap of 50 exceeds the bucket: it starts when the bucket
        // is full and leaves a debt of 40, which the next request waits out (4 s) plus its own 10 (1 s).
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { OutputTokensPerWindow = 600, TokensPerWindow = 1_000_000 });
        var first = partition.Enter(new AdmissionRequest(60) { InputTokens = 10, OutputTokens = 50 }).Admitted();
        Assert.Equal(50, first.Reserved(BudgetDimension.OutputTokens));

        var second = partition.Enter(new AdmissionRequest(20) { InputTokens = 10, OutputTokens = 10 });
        time.Advance(TimeSpan.FromSeconds(5) - Tick);
        second.AssertWaiting();
        time.Advance(Tick);

        Assert.Equal(TimeSpan.FromSeconds(5), second.Admitted().WaitTime);
        var output = partition.GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.OutputTokens);
        Assert.Equal(600, output.Limit);
        Assert.Equal(BudgetSource.Configured, output.Source);
    }

    [Fact]
    public void Acquire_WaitsForTheLatestOfEveryDimension()
    {
        // 100 input tokens a second (100 held), 10 output tokens a second (10 held). After the first, the second is
        // short of 100 input tokens (1 s) and, behind a debt of 30, of 10 output tokens (4 s): it starts at 4 s.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { InputTokensPerWindow = 6000, OutputTokensPerWindow = 600 });
        partition.Enter(new AdmissionRequest { InputTokens = 100, OutputTokens = 40 }).Admitted();
        var request = new AdmissionRequest { InputTokens = 100, OutputTokens = 10 };
        Assert.Equal(TimeSpan.FromSeconds(4), partition.TryAcquire(request).RetryAfter);

        var second = partition.Enter(request);
        time.Advance(TimeSpan.FromSeconds(4) - Tick);
        second.AssertWaiting();
        time.Advance(Tick);

        Assert.Equal(TimeSpan.FromSeconds(4), second.Admitted().WaitTime);
    }

    [Fact]
    public void Settle_AfterAShortAnswer_RefundsTheOutputBudgetAndAdmitsTheNextSooner()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { OutputTokensPerWindow = 600 });
        var first = partition.Enter(new AdmissionRequest { OutputTokens = 50 }).Admitted();
        var second = partition.Enter(new AdmissionRequest { OutputTokens = 10 });
        time.Advance(TimeSpan.FromSeconds(1));
        second.AssertWaiting();

        // The answer used 5 of its cap of 50: 45 come back, more than the debt left after a second's refill (30).
        first.Settle(BudgetDimension.OutputTokens, 5);

        Assert.Equal(5, first.Reserved(BudgetDimension.OutputTokens));
        Assert.Equal(TimeSpan.FromSeconds(1), second.Admitted().WaitTime);
        Assert.Equal(0, first.ReservedTokens);
    }

    [Fact]
    public void Settle_OfOneDimension_LeavesTheOthersReserved()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 60_000, InputTokensPerWindow = 60_000, OutputTokensPerWindow = 60_000 });
        var lease = partition.Enter(new AdmissionRequest(300) { InputTokens = 100, OutputTokens = 200 }).Admitted();

        lease.Settle(BudgetDimension.InputTokens, 150);

        var budgets = partition.GetSnapshot().Budgets.ToDictionary(b => b.Dimension, b => b.Available);
        Assert.Equal(700, budgets[BudgetDimension.Tokens]);
        Assert.Equal(850, budgets[BudgetDimension.InputTokens]);
        Assert.Equal(800, budgets[BudgetDimension.OutputTokens]);
        Assert.Throws<ArgumentOutOfRangeException>(() => lease.Settle(BudgetDimension.Requests, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => lease.Reserved(BudgetDimension.RequestsPerDay));
    }

    [Fact]
    public void ObserveBudget_AnthropicInputAndOutputHeaders_AreLearnedEachOnItsOwn()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());
        var reset = time.GetUtcNow().AddSeconds(30);

        partition.ObserveBudget(BudgetDimension.InputTokens, remaining: 40_000, reset, limit: 40_000);
        partition.ObserveBudget(BudgetDimension.OutputTokens, remaining: 1_000, reset, limit: 8_000);

        var snapshot = partition.GetSnapshot();
        var input = snapshot.Budgets.Single(b => b.Dimension == BudgetDimension.InputTokens);
        var output = snapshot.Budgets.Single(b => b.Dimension == BudgetDimension.OutputTokens);
        Assert.Equal((40_000d, BudgetSource.Headers), (input.Limit, input.Source));
        Assert.Equal((8_000d, BudgetSource.Headers), (output.Limit, output.Source));
        Assert.Null(snapshot.TokensPerMinute);

        // The output bucket holds a second's worth (133⅓): a cap of 120 starts now, a second one waits for refill.
        partition.Enter(new AdmissionRequest { OutputTokens = 120 }).Admitted();
        var retryAfter = partition.TryAcquire(new AdmissionRequest { OutputTokens = 120 }).RetryAfter!.Value;
        Assert.InRange(retryAfter.TotalSeconds, 0.8 - 1e-6, 0.8 + 1e-6);
    }

    [Fact]
    public void ObserveBudget_AConfiguredBudgetLowerThanTheHeaders_Stands()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { OutputTokensPerWindow = 6_000 });

        partition.ObserveBudget(BudgetDimension.OutputTokens, remaining: 8_000, time.GetUtcNow().AddSeconds(1), limit: 8_000);

        var output = partition.GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.OutputTokens);
        Assert.Equal((6_000d, BudgetSource.Configured), (output.Limit, output.Source));
    }

    [Fact]
    public void Acquire_PerDayRequests_StartAtOnceThenWaitADayAfterTheFirst()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerDay = 3 });
        for (int i = 0; i < 3; i++)
        {
            partition.Enter(new AdmissionRequest()).Admitted().Dispose();
            time.Advance(TimeSpan.FromHours(1));
        }

        var fourth = partition.Enter(new AdmissionRequest());
        time.Advance(TimeSpan.FromHours(21) - Tick);
        fourth.AssertWaiting();
        time.Advance(Tick);

        Assert.Equal(TimeSpan.FromHours(21), fourth.Admitted().WaitTime);
        var day = partition.GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.RequestsPerDay);
        Assert.Equal((3d, TimeSpan.FromDays(1), 0d), (day.Limit, day.Window, day.Available));
    }

    [Fact]
    public void Settle_PerDayTokens_RefundsWhereTheRequestWasAdmitted()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerDay = 1_000 });
        var first = partition.Enter(new AdmissionRequest(800)).Admitted();
        var second = partition.Enter(new AdmissionRequest(500));
        time.Advance(TimeSpan.FromHours(2));
        second.AssertWaiting();

        first.Settle(300);

        Assert.Equal(TimeSpan.FromHours(2), second.Admitted().WaitTime);
        var day = partition.GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.TokensPerDay);
        Assert.Equal(200, day.Available);
    }

    [Fact]
    public void ObserveBudget_PerDayHeaders_HoldBackUntilTheProviderResets()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());

        partition.ObserveBudget(BudgetDimension.RequestsPerDay, remaining: 1, time.GetUtcNow().AddHours(5), limit: 14_400);

        partition.Enter(new AdmissionRequest()).Admitted().Dispose();
        var held = partition.Enter(new AdmissionRequest());
        time.Advance(TimeSpan.FromHours(5) - TimeSpan.FromMilliseconds(1));
        held.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        held.Admitted();
        Assert.Equal(BudgetSource.Headers, partition.GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.RequestsPerDay).Source);
    }

    [Fact]
    public void Acquire_TheHeadWaiter_IsNotOvertakenByASmallerLaterRequest()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { OutputTokensPerWindow = 600 });
        partition.Enter(new AdmissionRequest { OutputTokens = 10 }).Admitted();
        var big = partition.Enter(new AdmissionRequest { OutputTokens = 10 });
        var small = partition.Enter(new AdmissionRequest { InputTokens = 5 });

        time.Advance(TimeSpan.FromMilliseconds(500));
        big.AssertWaiting();
        small.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(500));

        big.Admitted();
        small.Admitted();
    }

    [Fact]
    public void Acquire_AwaitingFirstHeaders_SendsOneAloneUntilTheyArrive()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { AwaitFirstHeaders = true });
        partition.Enter(new AdmissionRequest { OutputTokens = 100 }).Admitted();
        var second = partition.Enter(new AdmissionRequest { OutputTokens = 100 });
        time.Advance(TimeSpan.FromSeconds(1));
        second.AssertWaiting();

        partition.ObserveBudget(BudgetDimension.InputTokens, remaining: 39_000, time.GetUtcNow().AddSeconds(1), limit: 40_000);
        second.AssertWaiting();
        partition.ObserveBudget(BudgetDimension.OutputTokens, remaining: 30, time.GetUtcNow().AddSeconds(1), limit: 8_000);
        partition.HeadersObserved();

        // Both budgets are known now, and what the provider says is left (30 output tokens) holds the next back.
        second.AssertWaiting();
        time.Advance(TimeSpan.FromSeconds(1));
        second.Admitted();
    }

    [Fact]
    public void Acquire_AwaitingFirstHeaders_AnAnswerWithoutAnyEndsTheWait()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { AwaitFirstHeaders = true });
        var first = partition.Enter(new AdmissionRequest()).Admitted();
        var second = partition.Enter(new AdmissionRequest());
        second.AssertWaiting();

        first.Dispose();

        second.Admitted();
        partition.Enter(new AdmissionRequest()).Admitted();
    }

    [Fact]
    public void Acquire_NegativeInputOrOutput_Throws()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits());

        Assert.Throws<ArgumentOutOfRangeException>(() => partition.TryAcquire(new AdmissionRequest { InputTokens = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => partition.TryAcquire(new AdmissionRequest { OutputTokens = -1 }));
    }
}
