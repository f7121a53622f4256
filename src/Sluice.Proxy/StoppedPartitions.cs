using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// Gives stopped partitions another chance. A batch run stops a partition for good on exhausted quota or a rejected
/// key and leaves the rest for a later run; a proxy runs for days, and quota gets topped up and keys fixed. So while a
/// partition is stopped, callers get the provider's stopping answer at once (no retry storm), and the first request
/// <paramref name="retryAfter"/> after the stop resumes it and tries the upstream again.
/// </summary>
internal sealed class StoppedPartitions(TimeSpan retryAfter, TimeProvider time, ILogger logger)
{
    private readonly ConcurrentDictionary<string, long> _stoppedSince = new(StringComparer.Ordinal);

    /// <summary>Notes that a request's outcome stopped <paramref name="partition"/>.</summary>
    public void Stopped(GatePartition partition) => _stoppedSince[partition.Key] = time.GetTimestamp();

    /// <summary>Before a request runs: resumes its partition if it has been stopped long enough.</summary>
    public void ResumeIfDue(GatePartition partition)
    {
        string? reason = partition.GetSnapshot().StopReason;
        if (reason is null)
        {
            if (!_stoppedSince.IsEmpty)
            {
                _stoppedSince.TryRemove(partition.Key, out _);
            }

            return;
        }

        long since = _stoppedSince.GetOrAdd(partition.Key, time.GetTimestamp());
        var elapsed = time.GetElapsedTime(since);
        if (elapsed >= retryAfter && _stoppedSince.TryRemove(KeyValuePair.Create(partition.Key, since)))
        {
            partition.Resume();
            ProxyLog.Resumed(logger, partition.Key, elapsed, reason);
        }
    }
}
