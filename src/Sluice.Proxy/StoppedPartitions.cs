using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// Gives stopped partitions another chance. A batch run stops a partition for good on exhausted quota or a rejected
/// key and leaves the rest for a later run; a proxy runs for days, and quota gets topped up and keys fixed. So while a
/// partition is stopped, callers get the provider's stopping answer at once (no retry storm), and the first request
/// <paramref name="retryAfter"/> after the stop resumes it and tries the upstream again.
/// </summary>
/// <remarks>
/// When each stop began is kept beside the partition itself, weakly: a partition the gate removes (idle past its
/// timeout) takes its entry with it, so this table never outgrows the gate's.
/// </remarks>
internal sealed class StoppedPartitions(TimeSpan retryAfter, TimeProvider time, ILogger logger)
{
    private readonly ConditionalWeakTable<GatePartition, Stop> _stops = new();

    /// <summary>Notes that a request's outcome stopped <paramref name="partition"/>.</summary>
    public void Stopped(GatePartition partition) => _stops.AddOrUpdate(partition, new Stop(time.GetTimestamp()));

    /// <summary>Before a request runs: resumes its partition if it has been stopped long enough.</summary>
    public void ResumeIfDue(GatePartition partition)
    {
        string? reason = partition.GetSnapshot().StopReason;
        if (reason is null)
        {
            _stops.Remove(partition);
            return;
        }

        var stop = _stops.GetValue(partition, _ => new Stop(time.GetTimestamp()));
        var elapsed = time.GetElapsedTime(stop.Since);
        if (elapsed >= retryAfter && stop.TryEnd())
        {
            _stops.Remove(partition);
            partition.Resume();
            ProxyLog.Resumed(logger, partition.Key, elapsed, reason);
        }
    }

    /// <summary>One stop: when the proxy first saw it, and whether a request has already resumed it.</summary>
    private sealed class Stop(long since)
    {
        private int _ended;

        public long Since { get; } = since;

        public bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;
    }
}
