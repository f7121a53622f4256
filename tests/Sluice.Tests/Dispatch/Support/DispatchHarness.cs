using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Tests.Dispatch.Support;

/// <summary>
/// A gate and a dispatcher on a <see cref="FakeTimeProvider"/>, with a <see cref="ScriptedUpstream"/> and a
/// <see cref="FakeTimeDriver"/> whose notion of "quiet" is: every lease the gate has admitted is inside its call to
/// the upstream. Jitter is off unless a test turns it on, so instants can be asserted exactly; so are the tail's
/// shortcuts (learned timeouts, hedges, short backoffs when idle), which change those instants by design and have tests
/// of their own (TailTests).
/// </summary>
internal sealed class DispatchHarness : IDisposable
{
    public DispatchHarness(
        PartitionLimits? limits = null,
        Action<DispatcherOptions>? configure = null,
        IMeterFactory? meterFactory = null,
        int seed = 20_240_601)
    {
        Time = new FakeTimeProvider();
        var gateOptions = new GateOptions { DefaultLimits = limits ?? new PartitionLimits() };
        Gate = SluiceGate.Create(gateOptions, Time, loggerFactory: null, meterFactory);
        var options = new DispatcherOptions
        {
            RetryJitter = 0,
            ThrottleJitter = 0,
            LearnAttemptTimeout = false,
            HedgeSlowAttempts = false,
            ShortenIdleBackoff = false,
        };
        configure?.Invoke(options);
        Dispatcher = SluiceDispatcher.Create(Gate, options, loggerFactory: null, new Random(seed));
        Upstream = new ScriptedUpstream(Time);
        Driver = new FakeTimeDriver(Time, IsQuiet, Describe);
    }

    public FakeTimeProvider Time { get; }

    public SluiceGate Gate { get; }

    public SluiceDispatcher Dispatcher { get; }

    public ScriptedUpstream Upstream { get; }

    public FakeTimeDriver Driver { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public Task<JobResult<string>> Run(string id, string partition = "a", long tokens = 0, CancellationToken cancellationToken = default) =>
        Dispatcher.RunAsync(new SluiceJob(id, partition) { EstimatedTokens = tokens }, Upstream.AttemptAsync, cancellationToken).AsTask();

    public PartitionSnapshot Snapshot(string partition = "a") => Gate.GetPartition(partition).GetSnapshot();

    public Task SettleAsync() => Driver.SettleAsync();

    /// <summary>Advances the clock now, running what its timers set off inline (see <see cref="Inline"/>).</summary>
    public void Advance(TimeSpan delta) => Time.AdvanceInline(delta);

    public Task AdvanceAsync(TimeSpan delta) => Driver.AdvanceAsync(delta);

    public void Dispose()
    {
        Dispatcher.Dispose();
        Gate.Dispose();
    }

    /// <summary>The state of things, for a timeout's message.</summary>
    public string Describe()
    {
        var calls = Upstream.Calls;
        var partitions = Gate.Partitions.Select(p => p.GetSnapshot()).Select(s =>
            $"{s.Key}: {s.InFlight} in flight ({Upstream.Inside(s.Key)} inside calls), {s.Queued} queued, paused until {s.PausedUntil?.ToString("HH:mm:ss.fff") ?? "-"}, stopped: {s.StopReason ?? "no"}");
        return $"{calls.Count} calls, the last {string.Join(", ", calls.TakeLast(8).Select(c => $"{c.JobId}#{c.Attempt}@{c.At:HH:mm:ss.fff}"))}; {string.Join("; ", partitions)}";
    }

    private bool IsQuiet() => Gate.Partitions.All(p => p.GetSnapshot().InFlight == Upstream.Inside(p.Key));
}
