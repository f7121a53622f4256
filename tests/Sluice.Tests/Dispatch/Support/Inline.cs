using Microsoft.Extensions.Time.Testing;

namespace Sluice.Tests.Dispatch.Support;

/// <summary>
/// Runs code with no <see cref="SynchronizationContext"/>. The test framework runs tests under its own context, and
/// while one is current .NET will not run an awaiting continuation inline on the thread that completes its task (it
/// queues it to the pool instead). Cleared, a <see cref="FakeTimeProvider.Advance(TimeSpan)"/> runs everything its
/// timers set off — the dispatcher's backoffs, retries, timeouts and deadlines — before it returns, at the instant
/// the timer was due, which is what makes exact-timing assertions deterministic.
/// </summary>
internal static class Inline
{
    public static void Run(Action action)
    {
        var saved = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            action();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(saved);
        }
    }

    /// <summary>Advances the clock, running the continuations its timers complete inline.</summary>
    public static void AdvanceInline(this FakeTimeProvider time, TimeSpan delta) => Run(() => time.Advance(delta));
}
