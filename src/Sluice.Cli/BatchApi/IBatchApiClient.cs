using Sluice.Cli.Run;

namespace Sluice.Cli.BatchApi;

/// <summary>One provider's Batch API, as much as a batch-api run needs: submit a part, find it again, poll it, read its results.</summary>
internal interface IBatchApiClient : IDisposable
{
    /// <summary>The provider's per-batch limits, with the account's enqueued-token limit when the user gave it.</summary>
    BatchLimits Limits(long? maxEnqueuedTokens);

    /// <summary>
    /// Submits a part's requests as one batch tagged with <paramref name="metadata"/> where the provider keeps metadata.
    /// <paramref name="fileUploaded"/> is called with an uploaded input file's id before the batch is created (it is journalled).
    /// </summary>
    Task<BatchStatus> SubmitAsync(BatchPart part, IReadOnlyList<RequestLine> requests, IReadOnlyDictionary<string, string> metadata, Action<string> fileUploaded, CancellationToken cancellationToken);

    /// <summary>
    /// The batch a part journalled as submitting became, if the provider has it: by its metadata (OpenAI), or (Anthropic,
    /// which keeps none) the oldest batch of the part's size created since <paramref name="submittingSince"/> and not
    /// in <paramref name="claimed"/>.
    /// </summary>
    Task<BatchStatus?> FindAsync(BatchPart part, IReadOnlyDictionary<string, string> metadata, DateTimeOffset? submittingSince, IReadOnlySet<string> claimed, CancellationToken cancellationToken);

    /// <summary>One batch as it stands.</summary>
    Task<BatchStatus> GetAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>An ended batch's results, each classified and rewritten as a live run's output line.</summary>
    IAsyncEnumerable<BatchResultLine> ResultsAsync(BatchPart part, BatchStatus status, CancellationToken cancellationToken);
}
