using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Sluice.Options;

namespace Sluice.Dispatch;

/// <summary>The streaming form: many jobs in, one result per job out, in bounded memory.</summary>
internal sealed partial class LocalDispatcher
{
    public override IAsyncEnumerable<JobResult<T>> RunAllAsync<TItem, T>(
        IAsyncEnumerable<TItem> items,
        Func<TItem, SluiceJob> describe,
        Func<TItem, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        DispatchStreamOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(describe);
        ArgumentNullException.ThrowIfNull(attempt);
        options ??= new DispatchStreamOptions();
        OptionsGuard.ThrowIfInvalid(new DispatchStreamOptionsValidator(), options, nameof(options));
        return RunAllCoreAsync(items, describe, attempt, options.MaxInProgress, options.PreserveOrder, cancellationToken);
    }

    /// <summary>
    /// A producer takes items while fewer than <paramref name="maxInProgress"/> are undelivered and starts a job for
    /// each; every job writes its one result to a channel; this method delivers them (reordered when asked) and frees
    /// a place per delivery. Leaving early cancels the jobs and waits for them, so no work outlives the loop.
    /// </summary>
    private async IAsyncEnumerable<JobResult<T>> RunAllCoreAsync<TItem, T>(
        IAsyncEnumerable<TItem> items,
        Func<TItem, SluiceJob> describe,
        Func<TItem, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        int maxInProgress,
        bool preserveOrder,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var places = new SemaphoreSlim(maxInProgress, maxInProgress);
        var results = Channel.CreateUnbounded<(long Sequence, JobResult<T> Result)>(new UnboundedChannelOptions { SingleReader = true });
        var stream = new StreamState(results.Writer.TryComplete);
        var producer = ProduceAsync(items, describe, attempt, places, results.Writer, stream, stop.Token);
        var held = preserveOrder ? new Dictionary<long, JobResult<T>>() : null;
        long nextToDeliver = 0;
        try
        {
            await foreach (var (sequence, result) in results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // A place is freed once the consumer comes back for more, so a result it is still holding counts too.
                if (held is null)
                {
                    yield return result;
                    places.Release();
                    continue;
                }

                held[sequence] = result;
                while (held.Remove(nextToDeliver, out var next))
                {
                    nextToDeliver++;
                    yield return next;
                    places.Release();
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
            await stream.AllEnded.ConfigureAwait(false);
        }

        if (stream.Fault is { } fault)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
        }
    }

    private async Task ProduceAsync<TItem, T>(
        IAsyncEnumerable<TItem> items,
        Func<TItem, SluiceJob> describe,
        Func<TItem, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        SemaphoreSlim places,
        ChannelWriter<(long, JobResult<T>)> results,
        StreamState stream,
        CancellationToken stop)
    {
        // Reading stops on a hard cancel or a drain; jobs already taken run on and end once each.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stop, _drain.Token);
        long sequence = 0;
        try
        {
            // A place first, then an item: an item taken from the input always becomes a job with a result, even when
            // reading stops while every place is taken, and at most maxInProgress items are ever out of the input.
            var input = items.WithCancellation(reading.Token).ConfigureAwait(false).GetAsyncEnumerator();
            await using (input)
            {
                while (true)
                {
                    await places.WaitAsync(reading.Token).ConfigureAwait(false);

                    // A linked token is cancelled by a callback that may run after the jobs' own: a place freed by a job
                    // that ended Canceled or Drained can come before 'reading' says so. The sources say so at once.
                    if (stop.IsCancellationRequested || _drain.IsCancellationRequested || !await input.MoveNextAsync())
                    {
                        break;
                    }

                    var item = input.Current;
                    var job = describe(item);
                    ValidateJob(job);
                    stream.Started();
                    _ = RunOneAsync(item, job, sequence++, attempt, results, stream, stop);
                }
            }
        }
        catch (OperationCanceledException) when (reading.IsCancellationRequested)
        {
            // Cancelled or drained: no more input.
        }
#pragma warning disable CA1031 // The input or describe failed: report it after the jobs already taken have ended.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            stream.Fail(exception);
        }
        finally
        {
            stream.Ended();
        }
    }

    private async Task RunOneAsync<TItem, T>(
        TItem item,
        SluiceJob job,
        long sequence,
        Func<TItem, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        ChannelWriter<(long, JobResult<T>)> results,
        StreamState stream,
        CancellationToken stop)
    {
        try
        {
            var result = await RunCoreAsync(job, (context, token) => attempt(item, context, token), stop).ConfigureAwait(false);
            results.TryWrite((sequence, result));
        }
#pragma warning disable CA1031 // A bug in the dispatcher itself: surface it at the end of the stream rather than lose it.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            stream.Fail(exception);
        }
        finally
        {
            stream.Ended();
        }
    }

    /// <summary>
    /// Counts the producer and every running job; when the count reaches zero the result channel is completed.
    /// Starts at one, for the producer.
    /// </summary>
    private sealed class StreamState(Func<Exception?, bool> complete)
    {
        private readonly TaskCompletionSource _allEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running = 1;
        private Exception? _fault;

        public Task AllEnded => _allEnded.Task;

        public Exception? Fault => Volatile.Read(ref _fault);

        public void Started() => Interlocked.Increment(ref _running);

        public void Ended()
        {
            if (Interlocked.Decrement(ref _running) == 0)
            {
                complete(null);
                _allEnded.TrySetResult();
            }
        }

        public void Fail(Exception exception) => Interlocked.CompareExchange(ref _fault, exception, null);
    }
}
