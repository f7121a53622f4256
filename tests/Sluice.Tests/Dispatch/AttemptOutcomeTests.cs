using Sluice.Dispatch;

namespace Sluice.Tests.Dispatch;

/// <summary>Each factory makes the outcome its name says: the dispatcher acts on Kind, Overloaded and RetryAfter alone.</summary>
public sealed class AttemptOutcomeTests
{
    [Fact]
    public void Throttled_WithoutAnError_SaysWhoThrottled()
    {
        var outcome = AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(3));

        Assert.Equal((AttemptOutcomeKind.Throttled, TimeSpan.FromSeconds(3)), (outcome.Kind, outcome.RetryAfter));
        Assert.Equal("throttled by the provider", outcome.Error);
        Assert.Equal("daily limit", AttemptOutcome.Throttled<string>(error: "daily limit").Error);
    }

    [Fact]
    public void Overloaded_IsATransientFailureMarkedOverloaded_AndTransientIsNot()
    {
        var error = new InvalidOperationException("boom");
        var overloaded = AttemptOutcome.Overloaded<string>("503", TimeSpan.FromSeconds(2), "body", error);
        var transient = AttemptOutcome.Transient<string>("500", TimeSpan.FromSeconds(1), "body", error);

        Assert.Equal((AttemptOutcomeKind.Transient, true, "503", "body"), (overloaded.Kind, overloaded.Overloaded, overloaded.Error, overloaded.Value));
        Assert.Equal((TimeSpan.FromSeconds(2), error), (overloaded.RetryAfter!.Value, overloaded.Exception));
        Assert.Equal((AttemptOutcomeKind.Transient, false, "500"), (transient.Kind, transient.Overloaded, transient.Error));
        Assert.Equal((TimeSpan.FromSeconds(1), error), (transient.RetryAfter!.Value, transient.Exception));
    }

    [Fact]
    public void TheEndingFactories_CarryTheirKindErrorAndValue()
    {
        Assert.Equal((AttemptOutcomeKind.Success, "v", 12L), Shape(AttemptOutcome.Success("v", actualTokens: 12)));
        Assert.Equal((AttemptOutcomeKind.Permanent, "v", "400"), (AttemptOutcome.Permanent("400", "v").Kind, AttemptOutcome.Permanent("400", "v").Value, AttemptOutcome.Permanent("400", "v").Error));
        Assert.Equal((AttemptOutcomeKind.QuotaExhausted, "quota"), (AttemptOutcome.QuotaExhausted<string>("quota").Kind, AttemptOutcome.QuotaExhausted<string>("quota").Error));
        Assert.Equal((AttemptOutcomeKind.AuthFailed, "401"), (AttemptOutcome.AuthFailed<string>("401").Kind, AttemptOutcome.AuthFailed<string>("401").Error));

        static (AttemptOutcomeKind, string?, long?) Shape(AttemptOutcome<string> o) => (o.Kind, o.Value, o.ActualTokens);
    }

    [Fact]
    public void DispatcherOptions_Defaults_AreTheDocumentedOnes()
    {
        var options = new DispatcherOptions();

        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), options.BaseRetryDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), options.MaxRetryDelay);
        Assert.Equal(0.5, options.RetryJitter);
        Assert.Equal(TimeSpan.FromHours(1), options.MaxThrottlePause);
        Assert.Equal(0.1, options.ThrottleJitter);
        Assert.Equal(TimeSpan.FromMinutes(10), options.AttemptTimeout);
        Assert.Null(options.JobDeadline);
        Assert.Equal(0.2, options.RetryBudgetRatio);
        Assert.Equal(1, options.MinRetriesPerSecond);
        Assert.Equal(10, options.RetryBudgetBurst);
        Assert.True(options.LearnAttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MinLearnedAttemptTimeout);
        Assert.True(options.HedgeSlowAttempts);
        Assert.True(options.ShortenIdleBackoff);
        Assert.Equal(1_000, new DispatchStreamOptions().MaxInProgress);
    }

    [Fact]
    public void DispatcherOptions_Clone_IsACopy_NotTheSameObject()
    {
        // The dispatcher copies its options at construction: a caller changing theirs later changes nothing.
        var options = new DispatcherOptions { MaxAttempts = 3 };

        var copy = options.Clone();
        options.MaxAttempts = 9;

        Assert.Equal(3, copy.MaxAttempts);
    }
}
