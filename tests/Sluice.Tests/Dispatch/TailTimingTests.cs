using Sluice.Dispatch;

namespace Sluice.Tests.Dispatch;

/// <summary>The pure rules of the tail (TailTiming), each on its edges; TailTests shows them at work in the dispatcher.</summary>
public sealed class TailTimingTests
{
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Tenth = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(true, true, false, false, false, true)]    // idle, a plain failure: a tenth
    [InlineData(true, true, true, true, false, true)]      // overloaded because it timed out: a hung try, not load
    [InlineData(false, true, false, false, false, false)]  // the option is off
    [InlineData(true, false, false, false, false, false)]  // others wait
    [InlineData(true, true, true, false, false, false)]    // the upstream said it is overloaded
    [InlineData(true, true, false, false, true, false)]    // the upstream said when to come back
    public void RetryDelay_IsATenthOfTheBackoff_OnlyWhenIdleAndNoSignOfOverload(
        bool shorten, bool idle, bool overloaded, bool timedOut, bool retryAfter, bool shortened)
    {
        var options = new DispatcherOptions { ShortenIdleBackoff = shorten };

        var delay = TailTiming.RetryDelay(options, Backoff, idle, overloaded, timedOut, retryAfter ? Backoff : null);

        Assert.Equal(shortened ? Tenth : Backoff, delay);
    }

    [Fact]
    public void Timeout_WhenNotLearning_OrWithoutLatencies_IsTheConfiguredOne()
    {
        var slow = TimeSpan.FromMilliseconds(900);
        var off = new DispatcherOptions { LearnAttemptTimeout = false, AttemptTimeout = TimeSpan.FromMinutes(1) };
        Assert.Equal((off.AttemptTimeout, false), TailTiming.Timeout(off, slow, cutBefore: false));

        var on = new DispatcherOptions { LearnAttemptTimeout = true, AttemptTimeout = TimeSpan.FromMinutes(1) };
        Assert.Equal((on.AttemptTimeout, false), TailTiming.Timeout(on, slowQuantile: null, cutBefore: false));
    }

    [Fact]
    public void Timeout_WithoutAConfiguredOne_IsTheLearnedOne()
    {
        var options = new DispatcherOptions { LearnAttemptTimeout = true, AttemptTimeout = null, MinLearnedAttemptTimeout = TimeSpan.FromSeconds(1) };

        Assert.Equal((TimeSpan.FromSeconds(8), true), TailTiming.Timeout(options, TimeSpan.FromSeconds(2), cutBefore: false));
    }

    [Fact]
    public void Timeout_AtTheConfiguredOneExactly_IsTheConfiguredOne_NotALearnedOne()
    {
        // Equal is not under: a learned timeout that cuts no sooner than the configured one would only mark the job as
        // "cut by a learned timeout" and give its next try the same limit.
        var options = new DispatcherOptions { LearnAttemptTimeout = true, AttemptTimeout = TimeSpan.FromSeconds(8), MinLearnedAttemptTimeout = TimeSpan.FromSeconds(1) };

        Assert.Equal((TimeSpan.FromSeconds(8), false), TailTiming.Timeout(options, TimeSpan.FromSeconds(2), cutBefore: false));
        Assert.Equal((TimeSpan.FromSeconds(4), true), TailTiming.Timeout(options, TimeSpan.FromSeconds(1), cutBefore: false));
    }

    [Fact]
    public void Timeout_ForAnEnormousQuantile_IsCappedAtHalfTheLargestTimeSpan()
    {
        // Four times the quantile would overflow a TimeSpan; the cap keeps the product in range.
        var options = new DispatcherOptions { LearnAttemptTimeout = true, AttemptTimeout = null };

        var (limit, learned) = TailTiming.Timeout(options, TimeSpan.MaxValue / 2, cutBefore: false);

        Assert.True(learned);
        Assert.Equal(TimeSpan.FromTicks((long)(TimeSpan.MaxValue.Ticks / 2.0)), limit);
    }

    [Fact]
    public void HedgeDelay_IsNull_WhenHedgingIsOff_OrTheTimeoutComesFirst()
    {
        var slow = TimeSpan.FromMilliseconds(400);
        var on = new DispatcherOptions { HedgeSlowAttempts = true, MaxAttempts = 3 };
        var off = new DispatcherOptions { HedgeSlowAttempts = false, MaxAttempts = 3 };

        Assert.Equal(slow, TailTiming.HedgeDelay(on, slow, attemptsUsed: 0, timeout: TimeSpan.FromMilliseconds(401)));
        Assert.Null(TailTiming.HedgeDelay(on, slow, attemptsUsed: 0, timeout: slow));   // it would time out as it hedges
        Assert.Null(TailTiming.HedgeDelay(off, slow, attemptsUsed: 0, timeout: null));
    }
}
