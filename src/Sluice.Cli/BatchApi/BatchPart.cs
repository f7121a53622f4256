namespace Sluice.Cli.BatchApi;

/// <summary>Where a part of a batch-api run stands; each transition is journalled before the next step.</summary>
internal enum BatchPartStatus
{
    /// <summary>Split off and journalled; nothing sent yet.</summary>
    Planned,

    /// <summary>About to be uploaded and created: a batch may exist at the provider without its id journalled.</summary>
    Submitting,

    /// <summary>The provider's batch id is journalled; it is polled until it ends.</summary>
    Submitted,

    /// <summary>Its outputs and errors are journalled, and its unfinished lines are in a new part.</summary>
    Collected,
}

/// <summary>One line of a part: its custom id and its line number in the input.</summary>
internal readonly record struct PartLine(string CustomId, int LineNumber);

/// <summary>
/// One provider batch of a <c>sluice run --via batch-api</c>: lines of one endpoint and one model, under the
/// provider's per-batch limits. <see cref="Attempt"/> counts how many parts these lines have been in (1 for the first).
/// </summary>
internal sealed record BatchPart(int Number, string Url, string Model, IReadOnlyList<PartLine> Lines, long Bytes, long Tokens, int Attempt)
{
    public BatchPartStatus Status { get; init; } = BatchPartStatus.Planned;

    public string? FileId { get; init; }

    public string? BatchId { get; init; }

    /// <summary>When the part was first journalled as submitting: Anthropic's batches, which keep no metadata, are found again by it.</summary>
    public DateTimeOffset? SubmittingAt { get; init; }
}
