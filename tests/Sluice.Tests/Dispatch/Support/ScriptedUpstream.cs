using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Sluice.Dispatch;

namespace Sluice.Tests.Dispatch.Support;

/// <summary>One call the dispatcher made to the upstream: which job, which try, and the virtual instant it started.</summary>
internal sealed record UpstreamCall(int Index, string JobId, string Partition, int Attempt, DateTimeOffset At);

/// <summary>
/// A hand-written fake upstream. Each job follows its own script of <see cref="Step"/>s, one per call; the last
/// step repeats, and a job without a script succeeds with <c>ok:ID</c>. It records every call with the instant it
/// started, and counts the calls in progress per partition so a test can tell when every admitted lease is inside
/// its attempt (see <see cref="DispatchHarness"/>).
/// </summary>
internal sealed class ScriptedUpstream(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Step[]> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _callsPerJob = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<int>> _inside = new(StringComparer.Ordinal);
    private readonly List<UpstreamCall> _calls = [];

    public void Script(string jobId, params Step[] steps)
    {
        ArgumentOutOfRangeException.ThrowIfZero(steps.Length);
        _scripts[jobId] = steps;
    }

    public IReadOnlyList<UpstreamCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyList<UpstreamCall> CallsFor(string jobId) => [.. Calls.Where(c => c.JobId == jobId)];

    /// <summary>Calls started and not yet returned in <paramref name="partition"/>.</summary>
    public int Inside(string partition) => _inside.TryGetValue(partition, out var box) ? Volatile.Read(ref box.Value) : 0;

    /// <summary>The attempt delegate to hand the dispatcher. A step that throws synchronously throws out of this call.</summary>
    public ValueTask<AttemptOutcome<string>> AttemptAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        string jobId = context.Job.Id;
        int index = _callsPerJob.AddOrUpdate(jobId, 0, static (_, n) => n + 1);
        var step = _scripts.TryGetValue(jobId, out var script)
            ? script[Math.Min(index, script.Length - 1)]
            : Step.Returns(AttemptOutcome.Success($"ok:{jobId}"));

        // Record the instant before counting the call as inside: once a test sees it inside, "now" has been read.
        lock (_calls)
        {
            _calls.Add(new UpstreamCall(_calls.Count, jobId, context.Job.Partition, context.Attempt, time.GetUtcNow()));
        }

        var inside = _inside.GetOrAdd(context.Job.Partition, static _ => new StrongBox<int>());
        Interlocked.Increment(ref inside.Value);
        ValueTask<AttemptOutcome<string>> pending;
        try
        {
            pending = step.Start(time, cancellationToken);
        }
        catch
        {
            Interlocked.Decrement(ref inside.Value);
            throw;
        }

        if (pending.IsCompleted)
        {
            Interlocked.Decrement(ref inside.Value);
            return pending;
        }

        return FinishAsync(pending, inside);
    }

    private static async ValueTask<AttemptOutcome<string>> FinishAsync(ValueTask<AttemptOutcome<string>> pending, StrongBox<int> inside)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref inside.Value);
        }
    }
}

/// <summary>What the fake upstream does on one call.</summary>
internal abstract class Step
{
    /// <summary>Answers at once.</summary>
    public static Step Returns(AttemptOutcome<string> outcome) => new Immediate(outcome);

    /// <summary>Answers after <paramref name="latency"/> of virtual time (cancellable like a real request).</summary>
    public static Step After(TimeSpan latency, AttemptOutcome<string> outcome) => new Delayed(latency, outcome);

    /// <summary>Throws from the attempt delegate itself, before returning a task.</summary>
    public static Step Throws(Exception exception) => new ThrowingNow(exception);

    /// <summary>Returns a task that faults with <paramref name="exception"/>.</summary>
    public static Step Faults(Exception exception) => new Faulting(exception);

    /// <summary>Starts and waits for the test to <see cref="HeldStep.Complete"/> it, or for its token; never completed, it hangs until cancelled.</summary>
    public static HeldStep Hold() => new();

    public abstract ValueTask<AttemptOutcome<string>> Start(TimeProvider time, CancellationToken cancellationToken);

    private sealed class Immediate(AttemptOutcome<string> outcome) : Step
    {
        public override ValueTask<AttemptOutcome<string>> Start(TimeProvider time, CancellationToken cancellationToken) => new(outcome);
    }

    private sealed class Delayed(TimeSpan latency, AttemptOutcome<string> outcome) : Step
    {
        public override async ValueTask<AttemptOutcome<string>> Start(TimeProvider time, CancellationToken cancellationToken)
        {
            await Task.Delay(latency, time, cancellationToken).ConfigureAwait(false);
            return outcome;
        }
    }

    private sealed class ThrowingNow(Exception exception) : Step
    {
        public override ValueTask<AttemptOutcome<string>> Start(TimeProvider time, CancellationToken cancellationToken) => throw exception;
    }

    private sealed class Faulting(Exception exception) : Step
    {
        public override ValueTask<AttemptOutcome<string>> Start(TimeProvider time, CancellationToken cancellationToken) =>
            ValueTask.FromException<AttemptOutcome<string>>(exception);
    }
}

/// <summary>
/// A call the test finishes by hand. Completing it runs the dispatcher's continuation inline, on the test's thread,
/// up to the dispatcher's next wait — so what the dispatcher does with the outcome happens at the current virtual
/// instant, before the test moves the clock.
/// </summary>
internal sealed class HeldStep : Step
{
    private readonly TaskCompletionSource<AttemptOutcome<string>> _outcome = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sawCancellation;

    public bool Started => _started.Task.IsCompleted;

    public Task WhenStarted => _started.Task;

    /// <summary>True once the attempt's token was cancelled while it waited (timeout, deadline, caller cancel).</summary>
    public bool SawCancellation => Volatile.Read(ref _sawCancellation) == 1;

    public void Complete(AttemptOutcome<string> outcome)
    {
        bool completed = false;
        Inline.Run(() => completed = _outcome.TrySetResult(outcome));
        if (!completed)
        {
            throw new InvalidOperationException("This held call was already completed.");
        }
    }

    public override async ValueTask<AttemptOutcome<string>> Start(TimeProvider time, CancellationToken cancellationToken)
    {
        _started.TrySetResult();
        try
        {
            return await _outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Volatile.Write(ref _sawCancellation, 1);
            throw;
        }
    }
}
