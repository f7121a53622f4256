namespace Sluice.Cli.Run;

/// <summary>Live counts of one run, updated by attempts and the journal, read by the progress display.</summary>
internal sealed class RunCounters
{
    private long _succeeded;
    private long _failed;
    private long _attempts;
    private long _throttles;
    private long _tokens;
    private long _retries;
    private long _batchLeft = -1;

    public required int Total { get; init; }

    /// <summary>Finished in an earlier run (already in the journal).</summary>
    public required int AlreadyDone { get; init; }

    /// <summary>Succeeded this run, committed.</summary>
    public long Succeeded => Interlocked.Read(ref _succeeded);

    /// <summary>Failed for good this run, committed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public long Attempts => Interlocked.Read(ref _attempts);

    public long Throttles => Interlocked.Read(ref _throttles);

    /// <summary>Tries after a transient failure, counted when their job ends (a try after a 429 is not a retry).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Tokens the provider reported using, this run.</summary>
    public long Tokens => Interlocked.Read(ref _tokens);

    /// <summary>Jobs that finished this run (committed).</summary>
    public long DoneThisRun => Succeeded + Failed;

    /// <summary>The shared batch this worker is on (<c>--batch</c>), or null for a run of its own.</summary>
    public string? BatchName { get; init; }

    /// <summary>Results the shared batch held when this worker began.</summary>
    public long BatchRecordedAtStart { get; init; }

    /// <summary>Lines of the shared batch without a result, as last read from Redis; null for a run of its own.</summary>
    public long? BatchLeft
    {
        get => Interlocked.Read(ref _batchLeft) is var left and >= 0 ? left : null;
        set => Interlocked.Exchange(ref _batchLeft, value ?? -1);
    }

    public void Attempted() => Interlocked.Increment(ref _attempts);

    public void Retried(long retries) => Interlocked.Add(ref _retries, retries);

    public void Throttled() => Interlocked.Increment(ref _throttles);

    public void Used(long tokens) => Interlocked.Add(ref _tokens, tokens);

    public void Committed(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _succeeded : ref _failed);
}
