using Microsoft.Extensions.Logging;
using Sluice.Gate;

namespace Sluice.Dispatch;

/// <summary>
/// Runs jobs through a <see cref="SluiceGate"/> until each ends exactly once: it waits at the job's partition, runs
/// an attempt, and acts on the attempt's outcome as DESIGN.md's table says — pause on throttling, back off and
/// retry transient failures under a retry budget, fail permanent ones, stop the partition on quota or credential
/// failure. A job waiting to retry holds no concurrency slot. Job-level endings are values, never exceptions.
/// </summary>
public abstract class SluiceDispatcher : IDisposable
{
    private protected SluiceDispatcher()
    {
    }

    /// <summary>True once <see cref="Drain"/> has been called.</summary>
    public abstract bool IsDraining { get; }

    /// <summary>Creates a dispatcher over <paramref name="gate"/>, on the gate's clock.</summary>
    /// <param name="gate">The gate jobs wait at.</param>
    /// <param name="options">Retry, timeout and budget settings; validated (every error at once) and copied.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="random">The source of jitter; pass a seeded one to reproduce a run. A private one when null.</param>
    /// <returns>A dispatcher.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some options are invalid.</exception>
    public static SluiceDispatcher Create(
        SluiceGate gate,
        DispatcherOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(gate);
        return new LocalDispatcher(gate, options ?? new DispatcherOptions(), loggerFactory, random ?? new Random());
    }

    /// <summary>Runs one job to its end.</summary>
    /// <typeparam name="T">The attempt's result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="attempt">One try at the work. Its token is cancelled by the attempt timeout, the job's deadline and <paramref name="cancellationToken"/>. An exception it throws counts as a transient failure.</param>
    /// <param name="cancellationToken">Hard cancel: the job ends <see cref="JobStatus.NotCompleted"/> with <see cref="JobEndReason.Canceled"/> (not an exception).</param>
    /// <returns>The job's one final result.</returns>
    public abstract ValueTask<JobResult<T>> RunAsync<T>(
        SluiceJob job,
        Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a stream of jobs, taking at most <see cref="DispatchStreamOptions.MaxInProgress"/> from the input at a
    /// time, and yields one result per job taken. Cancelling <paramref name="cancellationToken"/> ends the jobs in
    /// progress as <see cref="JobEndReason.Canceled"/>, yields them, and reads no more input; so does
    /// <see cref="Drain"/> for jobs not yet started. Leaving the loop early cancels the rest and waits for them.
    /// </summary>
    /// <typeparam name="TItem">The input item.</typeparam>
    /// <typeparam name="T">The attempt's result type.</typeparam>
    /// <param name="items">The input.</param>
    /// <param name="describe">Makes the job for an item (its id, partition, cost).</param>
    /// <param name="attempt">One try at an item's work.</param>
    /// <param name="options">Bounds and ordering; defaults when null.</param>
    /// <param name="cancellationToken">Hard cancel.</param>
    /// <returns>One result per job taken from the input.</returns>
    public abstract IAsyncEnumerable<JobResult<T>> RunAllAsync<TItem, T>(
        IAsyncEnumerable<TItem> items,
        Func<TItem, SluiceJob> describe,
        Func<TItem, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        DispatchStreamOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Graceful stop: nothing new starts — jobs waiting at the gate or to retry end
    /// <see cref="JobEndReason.Drained"/> — while attempts in flight finish. Streams read no more input.
    /// </summary>
    public abstract void Drain();

    /// <summary>Releases the dispatcher's resources. Jobs still running end as drained.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);
}
