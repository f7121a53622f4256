namespace Sluice.Cli.Run;

/// <summary>
/// Where a run's final outcomes go: the local journal (<see cref="RunJournal"/>), or a batch shared through Redis
/// (<see cref="SharedBatchOutcomes"/>). Only a job that ended for good is recorded; one that did not complete stays
/// to be done.
/// </summary>
internal interface IRunOutcomes
{
    /// <summary>The first failure to make an outcome durable; once set, the run stops starting work.</summary>
    Exception? Fault { get; }

    /// <summary>Records a final outcome; the task completes once it is durable.</summary>
    Task RecordAsync(string customId, int lineNumber, bool succeeded, string outputLine);

    /// <summary>Waits until everything recorded so far is durable.</summary>
    Task FlushAsync();
}
