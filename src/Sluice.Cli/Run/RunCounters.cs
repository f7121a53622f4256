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

    private readonly Lock _money = new();
    private decimal _spent;
    private decimal _saved;
    private long _cacheHits;
    private long _savedTokens;
    private long _priced;
    private long _answered;

    /// <summary>What this run's answers cost at the provider, summed over those with a price.</summary>
    public decimal Spent
    {
        get
        {
            lock (_money)
            {
                return _spent;
            }
        }
    }

    /// <summary>What the answers from the cache would have cost sent again, where their model has a price.</summary>
    public decimal Saved
    {
        get
        {
            lock (_money)
            {
                return _saved;
            }
        }
    }

    /// <summary>Jobs answered from the response cache this run, nothing sent.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>The tokens the cached answers had used when they were paid for.</summary>
    public long SavedTokens => Interlocked.Read(ref _savedTokens);

    /// <summary>Jobs that ended with an answer this run (sent or cached), counted for the projection.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Of <see cref="Answered"/>, those whose cost is known.</summary>
    public long Priced => Interlocked.Read(ref _priced);

    /// <summary>What earlier runs of the batch spent, read from the journal when a cap counts it.</summary>
    public decimal EarlierSpent { get; init; }

    /// <summary>The cap given with <c>--max-spend</c>, shown beside what is spent.</summary>
    public decimal? SpendCap { get; init; }

    /// <summary>The worst case of the lines this run has to do, from their estimates (a scan before sending); null when not scanned.</summary>
    public decimal? EstimatedWorstCase { get; set; }

    /// <summary>Counts one job's answer: what it cost (null: unknown), and for a cache hit what it saved.</summary>
    public void Paid(decimal? cost, bool cached, long? tokens, decimal? saved)
    {
        Interlocked.Increment(ref _answered);
        if (cached)
        {
            Interlocked.Increment(ref _cacheHits);
            Interlocked.Add(ref _savedTokens, tokens ?? 0);
        }

        if (cost is null && !cached)
        {
            return;
        }

        Interlocked.Increment(ref _priced);
        lock (_money)
        {
            _spent += cost ?? 0;
            _saved += cached ? saved ?? 0 : 0;
        }
    }

    /// <summary>
    /// The run's projected cost: what is spent over the answers so far, times the lines this run has to do; null
    /// before the first priced answer. Cache hits count as answers costing nothing, as they will on the rest.
    /// </summary>
    public decimal? Projected()
    {
        long priced = Priced;
        long toDo = Total - AlreadyDone;
        if (priced == 0 || toDo <= 0)
        {
            return null;
        }

        return Spent / priced * toDo;
    }

    public void Attempted() => Interlocked.Increment(ref _attempts);

    public void Retried(long retries) => Interlocked.Add(ref _retries, retries);

    public void Throttled() => Interlocked.Increment(ref _throttles);

    public void Used(long tokens) => Interlocked.Add(ref _tokens, tokens);

    public void Committed(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _succeeded : ref _failed);
}
