using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// A provider's answer to one try and what the engine learned reading it, carried forward so nothing is read twice:
/// the provider's error code and the usage it reported.
/// </summary>
/// <param name="Message">The answer; buffered unless it is a 2xx stream.</param>
/// <param name="ProviderCode">The provider's <c>error.code</c> or <c>error.type</c>, for a failure that names one.</param>
/// <param name="Usage">The tokens the answer reported; empty for a stream (settled as it ends) or a failure.</param>
/// <remarks>Disposing it lets the answer go: the dispatcher does so for a try whose answer nobody waits for any more.</remarks>
internal sealed record ProviderReply(HttpResponseMessage Message, string? ProviderCode, TokenUsage Usage) : IDisposable
{
    public void Dispose() => Message.Dispose();
}
