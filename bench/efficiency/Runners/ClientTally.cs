namespace Sluice.Efficiency.Runners;

/// <summary>What a row's client saw: attempts it put on the wire and requests that ended well. Thread-safe.</summary>
internal sealed class ClientTally
{
    private long _attempts;
    private long _succeeded;

    /// <summary>Attempts sent on the wire, retries and re-sends after a 429 included.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Requests that ended with a 2xx and a well-formed body.</summary>
    public long Succeeded => Interlocked.Read(ref _succeeded);

    public void CountAttempt() => Interlocked.Increment(ref _attempts);

    public void CountSuccess() => Interlocked.Increment(ref _succeeded);
}
