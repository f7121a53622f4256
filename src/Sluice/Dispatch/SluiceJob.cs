using Sluice.Gate;

namespace Sluice.Dispatch;

/// <summary>One unit of work for the dispatcher: what it is called, which partition it uses and what it costs.</summary>
/// <param name="Id">The caller's name for the job (a batch file's <c>custom_id</c>); used in logs, traces and results.</param>
/// <param name="Partition">The gate partition the job waits at.</param>
public sealed record SluiceJob(string Id, string Partition)
{
    /// <summary>Estimated token cost, reserved at admission and settled with the attempt's actual usage.</summary>
    /// <value>Defaults to 0: no token reservation.</value>
    public long EstimatedTokens { get; init; }

    /// <summary>Estimated prompt tokens, reserved against an input-token budget and settled with the answer's input tokens.</summary>
    /// <value>Defaults to 0: no input-token reservation.</value>
    public long EstimatedInputTokens { get; init; }

    /// <summary>The output cap (<c>max_tokens</c>), reserved against an output-token budget and settled with the answer's output tokens.</summary>
    /// <value>Defaults to 0: no output-token reservation.</value>
    public long EstimatedOutputTokens { get; init; }

    /// <summary>Higher priorities are admitted first.</summary>
    /// <value>Defaults to 0.</value>
    public int Priority { get; init; }

    /// <summary>Who the job is for at the gate: passed in every admission of its tries (<see cref="AdmissionRequest.Tenant"/>).</summary>
    /// <value>Defaults to <see langword="null"/>: the partition's default tenant.</value>
    public GateTenant? Tenant { get; init; }

    /// <summary>How long the job may take in all, waits and retries included; overrides <see cref="DispatcherOptions.JobDeadline"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: the dispatcher's deadline applies.</value>
    public TimeSpan? Deadline { get; init; }
}
