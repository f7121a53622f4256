namespace Sluice.Mock.Batch;

/// <summary>Lock-free counts of Batch API use for <c>GET /mock/stats</c>.</summary>
internal sealed class BatchCounters
{
    private long _filesUploaded;
    private long _openAIBatches;
    private long _anthropicBatches;
    private long _batchesCancelled;
    private long _linesServed;

    public void FileUploaded() => Interlocked.Increment(ref _filesUploaded);

    public void OpenAIBatchCreated() => Interlocked.Increment(ref _openAIBatches);

    public void AnthropicBatchCreated() => Interlocked.Increment(ref _anthropicBatches);

    public void BatchCancelled() => Interlocked.Increment(ref _batchesCancelled);

    public void LinesServed(long lines) => Interlocked.Add(ref _linesServed, lines);

    public void Reset()
    {
        Interlocked.Exchange(ref _filesUploaded, 0);
        Interlocked.Exchange(ref _openAIBatches, 0);
        Interlocked.Exchange(ref _anthropicBatches, 0);
        Interlocked.Exchange(ref _batchesCancelled, 0);
        Interlocked.Exchange(ref _linesServed, 0);
    }

    public MockBatchStats Snapshot() => new()
    {
        FilesUploaded = Interlocked.Read(ref _filesUploaded),
        OpenAIBatchesCreated = Interlocked.Read(ref _openAIBatches),
        AnthropicBatchesCreated = Interlocked.Read(ref _anthropicBatches),
        BatchesCancelled = Interlocked.Read(ref _batchesCancelled),
        LinesServed = Interlocked.Read(ref _linesServed),
    };
}
