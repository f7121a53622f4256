namespace Sluice.Redis.Batch;

/// <summary>One line to load into a batch: its id (unique in the batch), where it was in its file, and what it holds.</summary>
/// <param name="Id">The line's id, such as an OpenAI batch line's <c>custom_id</c>; results are recorded once per id.</param>
/// <param name="LineNumber">Where the line was in its file, for messages.</param>
/// <param name="Payload">The line itself, handed to the worker that takes it.</param>
public sealed record RedisBatchItem(string Id, int LineNumber, string Payload);

/// <summary>A line a worker took: it is this worker's until it records the line's result, stops renewing it, or releases it.</summary>
/// <param name="EntryId">The stream entry's id (its position in the batch).</param>
/// <param name="Id">The line's id.</param>
/// <param name="LineNumber">Where the line was in its file.</param>
/// <param name="Payload">The line itself.</param>
public sealed record RedisBatchLine(string EntryId, string Id, int LineNumber, string Payload);

/// <summary>A recorded result, as <see cref="RedisBatch.ReadResultsAsync"/> gives them, in the batch's order.</summary>
/// <param name="Id">The line's id.</param>
/// <param name="LineNumber">Where the line was in its file.</param>
/// <param name="Value">The result as recorded.</param>
/// <param name="Failed">Whether the result was recorded as a failure.</param>
public sealed record RedisBatchResult(string Id, int LineNumber, string Value, bool Failed);

/// <summary>What <see cref="RedisBatch.LoadAsync"/> found.</summary>
public enum RedisBatchLoad
{
    /// <summary>This worker loaded the lines (or finished a load a dead worker began).</summary>
    Loaded,

    /// <summary>Another worker loaded the same input (same fingerprint) earlier.</summary>
    AlreadyLoaded,

    /// <summary>The batch's name holds a different input: nothing was loaded, and this worker must not take lines.</summary>
    DifferentInput,
}

/// <summary>Where a batch stands.</summary>
/// <param name="Total">Lines in the batch; null until a worker has finished loading it (or when there is no such batch).</param>
/// <param name="Recorded">Lines whose result is recorded.</param>
/// <param name="Failed">Of those, results recorded as failures.</param>
public readonly record struct RedisBatchProgress(long? Total, long Recorded, long Failed)
{
    /// <summary>Whether every line of a fully loaded batch has its result.</summary>
    public bool IsComplete => Total is { } total && Recorded >= total;

    /// <summary>Lines without a result yet; null until loaded.</summary>
    public long? Left => Total is { } total ? Math.Max(0, total - Recorded) : null;
}
