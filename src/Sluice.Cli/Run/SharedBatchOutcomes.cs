using System.Collections.Concurrent;
using Sluice.Redis.Batch;
using StackExchange.Redis;

namespace Sluice.Cli.Run;

/// <summary>
/// Final outcomes recorded in a batch shared through Redis: each result once per custom_id, whichever worker is
/// first. A result another worker recorded first (this worker took over a line whose worker was slow, not dead) is
/// counted as sent twice. Redis unreachable for a moment is waited out; for longer, the failure stops the worker.
/// </summary>
internal sealed class SharedBatchOutcomes(RedisBatch batch, RunCounters counters, TimeProvider time) : IRunOutcomes
{
    /// <summary>Tries to record one result before Redis's failure becomes the worker's.</summary>
    private const int RecordTries = 10;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    // The lines taken and not yet recorded, by custom_id: bounded by the runner's lines in progress.
    private readonly ConcurrentDictionary<string, RedisBatchLine> _taken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _recording = new();
    private long _sentTwice;

    public Exception? Fault { get; private set; }

    /// <summary>Results this worker sent that another worker had recorded first.</summary>
    public long SentTwice => Interlocked.Read(ref _sentTwice);

    public void Taken(RedisBatchLine line) => _taken[line.Id] = line;

    public Task RecordAsync(string customId, int lineNumber, bool succeeded, string outputLine)
    {
        if (!_taken.TryRemove(customId, out var line))
        {
            throw new InvalidOperationException($"{customId} was not taken from the batch");
        }

        var recording = RecordCoreAsync(line, succeeded, outputLine);
        _recording[recording] = 0;
        _ = recording.ContinueWith(done => _recording.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return recording;
    }

    public async Task FlushAsync()
    {
        while (!_recording.IsEmpty)
        {
            try
            {
                await Task.WhenAll(_recording.Keys).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // Kept as the fault; the caller reports it.
            }
        }
    }

    private async Task RecordCoreAsync(RedisBatchLine line, bool succeeded, string outputLine)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                if (await batch.RecordAsync(line, outputLine, failed: !succeeded).ConfigureAwait(false))
                {
                    counters.Committed(succeeded);
                }
                else
                {
                    Interlocked.Increment(ref _sentTwice);
                }

                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException && attempt < RecordTries)
            {
                await Task.Delay(RetryDelay, time).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // Not recorded: the line stays pending in Redis and another worker (or this one, run again) redoes it.
                Fault ??= exception;
                throw;
            }
        }
    }
}
