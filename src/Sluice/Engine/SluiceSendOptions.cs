using Sluice.Dispatch;

namespace Sluice.Engine;

/// <summary>How one face sends through a <see cref="SluiceEngine"/>: its transport and what it watches of each try.</summary>
public sealed class SluiceSendOptions
{
    /// <summary>
    /// Sends one message instead of the engine's own transport: a <see cref="DelegatingHandler"/>'s inner handler, or
    /// a test's fake upstream. <see langword="null"/> uses the transport the engine was made with.
    /// </summary>
    public Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>? Send { get; init; }

    /// <summary>
    /// Called as each try is about to send, after the gate admitted it: the proxy stops counting its client's waiting
    /// time here. Called outside every lock; it must be quick and must not throw.
    /// </summary>
    public Action? AttemptStarting { get; init; }

    /// <summary>
    /// Called as each try ends, with its outcome class: counting tries and throttles, resuming a wait clock. Every try
    /// that started ends here once, a try cut short (its timeout, the caller, the deadline) as
    /// <see cref="AttemptOutcomeKind.Transient"/>.
    /// </summary>
    public Action<AttemptOutcomeKind>? AttemptEnded { get; init; }
}
