using System.Diagnostics;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// The files and batches both providers' Batch APIs hold, bounded in count and bytes. One lock guards the maps and
/// each batch's cancel time; everything else about a batch is immutable or computed from the clock.
/// </summary>
internal sealed class BatchStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BatchJob> _batches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BatchJob> _resultFiles = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deletedResultFiles = new(StringComparer.Ordinal);
    private readonly List<BatchJob> _order = [];
    private long _storedBytes;

    public BatchStore(MockOptions options, BatchAnswers answers)
    {
        Time = options.TimeProvider;
        Answers = answers;
        Ids = new BatchIds(options.Seed);
        ProcessingTime = options.BatchProcessingTime;
        CompletionWindow = options.BatchCompletionWindow;
        MaxRequests = options.MaxBatchRequests;
        MaxFileBytes = options.MaxBatchFileBytes;
        MaxEnqueuedTokens = options.MaxEnqueuedTokens;
        MaxBatches = options.MaxBatches;
        MaxStoredBytes = options.MaxStoredFileBytes;
    }

    public TimeProvider Time { get; }

    public BatchAnswers Answers { get; }

    public BatchIds Ids { get; }

    public BatchCounters Counters { get; } = new();

    public TimeSpan ProcessingTime { get; }

    public TimeSpan CompletionWindow { get; }

    public int MaxRequests { get; }

    public long MaxFileBytes { get; }

    public long? MaxEnqueuedTokens { get; }

    public int MaxBatches { get; }

    public long MaxStoredBytes { get; }

    /// <summary>Stores an upload; false when it would pass the bytes the mock holds.</summary>
    public bool TryAddFile(StoredFile file)
    {
        lock (_lock)
        {
            if (_storedBytes + file.Content.LongLength > MaxStoredBytes)
            {
                return false;
            }

            _files.Add(file.Id, file);
            _storedBytes += file.Content.LongLength;
            Debug.Assert(_storedBytes <= MaxStoredBytes, "stored bytes stay within their bound");
        }

        Counters.FileUploaded();
        return true;
    }

    public StoredFile? GetUpload(string id)
    {
        lock (_lock)
        {
            return _files.GetValueOrDefault(id);
        }
    }

    /// <summary>An ended batch's output or error file, with the batch's view at its end; null when there is no such file (yet).</summary>
    public (BatchJob Job, BatchView View)? GetResultFile(string id)
    {
        lock (_lock)
        {
            if (!_resultFiles.TryGetValue(id, out var job) || _deletedResultFiles.Contains(id))
            {
                return null;
            }

            var view = job.ViewAt(Time.GetUtcNow());
            if (!view.Ended)
            {
                return null;
            }

            var isOutput = id == job.OutputFileId;
            return (isOutput ? BatchResults.HasOutput(view) : BatchResults.HasErrors(job, view)) ? (job, view) : null;
        }
    }

    public bool DeleteFile(string id)
    {
        lock (_lock)
        {
            if (_files.Remove(id, out var file))
            {
                _storedBytes -= file.Content.LongLength;
                Debug.Assert(_storedBytes >= 0, "stored bytes never go negative");
                return true;
            }

            return _resultFiles.ContainsKey(id) && _deletedResultFiles.Add(id);
        }
    }

    /// <summary>
    /// Adds a batch made by <paramref name="create"/>, which is told the tokens already enqueued for its model in
    /// unfinished batches. False when the mock holds <see cref="MaxBatches"/> batches and none has ended.
    /// </summary>
    public bool TryAddBatch(string model, Func<long, BatchJob> create, out (BatchJob Job, BatchView View) added)
    {
        BatchJob job;
        lock (_lock)
        {
            var now = Time.GetUtcNow();
            if (_order.Count >= MaxBatches && !TryForgetOldestEnded(now))
            {
                added = default;
                return false;
            }

            long enqueued = 0;
            foreach (var other in _order)
            {
                if (other.Provider == Provider.OpenAI && other.Model == model && other.ValidationError is null && !other.ViewAt(now).Ended)
                {
                    enqueued += other.EstimatedTokens;
                }
            }

            job = create(enqueued);
            _batches.Add(job.Id, job);
            _order.Add(job);
            if (job.Provider == Provider.OpenAI)
            {
                _resultFiles.Add(job.OutputFileId, job);
                _resultFiles.Add(job.ErrorFileId, job);
            }

            Debug.Assert(_order.Count <= MaxBatches && _order.Count == _batches.Count, "the batches stay within their bound");
            added = (job, job.ViewAt(now));
        }

        if (job.Provider == Provider.OpenAI)
        {
            Counters.OpenAIBatchCreated();
        }
        else
        {
            Counters.AnthropicBatchCreated();
        }

        return true;
    }

    /// <summary>A batch of <paramref name="provider"/> and its view now, or null.</summary>
    public (BatchJob Job, BatchView View)? GetBatch(Provider provider, string id)
    {
        lock (_lock)
        {
            return _batches.TryGetValue(id, out var job) && job.Provider == provider ? (job, job.ViewAt(Time.GetUtcNow())) : null;
        }
    }

    /// <summary>The provider's batches, newest first, with their views now.</summary>
    public IReadOnlyList<(BatchJob Job, BatchView View)> ListBatches(Provider provider)
    {
        lock (_lock)
        {
            var now = Time.GetUtcNow();
            var list = new List<(BatchJob, BatchView)>();
            for (var i = _order.Count - 1; i >= 0; i--)
            {
                if (_order[i].Provider == provider)
                {
                    list.Add((_order[i], _order[i].ViewAt(now)));
                }
            }

            return list;
        }
    }

    /// <summary>Cancels a batch; the view after it, and whether the cancel took (false when it had ended or was cancelling).</summary>
    public (BatchJob Job, BatchView View, bool Cancelled)? Cancel(Provider provider, string id)
    {
        bool cancelled;
        (BatchJob, BatchView, bool) result;
        lock (_lock)
        {
            if (!_batches.TryGetValue(id, out var job) || job.Provider != provider)
            {
                return null;
            }

            var now = Time.GetUtcNow();
            cancelled = job.TryCancel(now);
            result = (job, job.ViewAt(now), cancelled);
        }

        if (cancelled)
        {
            Counters.BatchCancelled();
        }

        return result;
    }

    /// <summary>Forgets every file and batch, as <c>POST /mock/reset</c>.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _files.Clear();
            _batches.Clear();
            _resultFiles.Clear();
            _deletedResultFiles.Clear();
            _order.Clear();
            _storedBytes = 0;
        }

        Counters.Reset();
        Ids.Reset();
    }

    private bool TryForgetOldestEnded(DateTimeOffset now)
    {
        for (var i = 0; i < _order.Count; i++)
        {
            var job = _order[i];
            if (job.ViewAt(now).Ended)
            {
                _order.RemoveAt(i);
                _batches.Remove(job.Id);
                _resultFiles.Remove(job.OutputFileId);
                _resultFiles.Remove(job.ErrorFileId);
                _deletedResultFiles.Remove(job.OutputFileId);
                _deletedResultFiles.Remove(job.ErrorFileId);
                return true;
            }
        }

        return false;
    }
}
