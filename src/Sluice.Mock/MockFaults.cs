namespace Sluice.Mock;

/// <summary>
/// Faults the mock injects on purpose. Rates are probabilities between 0 and 1, drawn once per admitted
/// request from a generator seeded by <see cref="MockOptions.Seed"/>, so the same seed and the same order of
/// requests give the same faults. The rates share one draw, so at most one of them hits a request and their
/// sum must not exceed 1.
/// </summary>
public sealed class MockFaults
{
    /// <summary>Share of admitted requests answered 500 with the provider's server error body.</summary>
    /// <value>Default: 0.</value>
    public double InternalServerErrorRate { get; set; }

    /// <summary>Share of admitted requests answered 502 with an HTML body, as a gateway in front of the provider sends it.</summary>
    /// <value>Default: 0.</value>
    public double BadGatewayRate { get; set; }

    /// <summary>Share of admitted requests answered 503 with the provider's body.</summary>
    /// <value>Default: 0.</value>
    public double ServiceUnavailableRate { get; set; }

    /// <summary>Share of admitted Anthropic <c>/v1/messages</c> requests answered 529 <c>overloaded_error</c>; OpenAI endpoints ignore it.</summary>
    /// <value>Default: 0.</value>
    public double OverloadedRate { get; set; }

    /// <summary>Share of admitted requests whose connection is aborted without an answer.</summary>
    /// <value>Default: 0.</value>
    public double ConnectionResetRate { get; set; }

    /// <summary>Share of admitted requests never answered: the mock waits until the client gives up or the server stops.</summary>
    /// <value>Default: 0.</value>
    public double HangRate { get; set; }

    /// <summary>
    /// Share of admitted requests answered 200 with a body that is not valid JSON (a truncated body, or for a
    /// stream one truncated event).
    /// </summary>
    /// <value>Default: 0.</value>
    public double MalformedBodyRate { get; set; }

    /// <summary>
    /// Share of admitted streaming requests whose stream ends cleanly halfway, before <c>data: [DONE]</c> (or
    /// Anthropic's <c>message_stop</c>); non-streaming requests ignore it.
    /// </summary>
    /// <value>Default: 0.</value>
    public double StreamCutRate { get; set; }

    /// <summary>
    /// When set, each credential (the <c>Authorization</c>, <c>x-api-key</c> or <c>api-key</c> header) serves this
    /// many requests and then gets 401 until a request arrives with a different credential, which starts a new count.
    /// </summary>
    /// <value>Default: <see langword="null"/> (credentials never expire).</value>
    public int? AuthExpiresAfterRequests { get; set; }

    /// <summary>
    /// When set, this many valid requests are served and every later one gets the provider's quota error
    /// (OpenAI 429 <c>insufficient_quota</c>, Anthropic 402 <c>billing_error</c>) until <c>POST /mock/reset</c>.
    /// </summary>
    /// <value>Default: <see langword="null"/> (no quota).</value>
    public int? QuotaExhaustedAfterRequests { get; set; }

    /// <summary>
    /// When set, a request whose prompt estimate exceeds this many tokens gets the provider's 400 context
    /// length error (OpenAI <c>context_length_exceeded</c>).
    /// </summary>
    /// <value>Default: <see langword="null"/> (no context limit).</value>
    public int? ContextLengthLimit { get; set; }

    /// <summary>A copy, so a running mock never sees later changes to the options it was started with.</summary>
    internal MockFaults Clone() => (MockFaults)MemberwiseClone();

    internal IEnumerable<string> Validate(string prefix)
    {
        var rates = new (string Name, double Value)[]
        {
            (nameof(InternalServerErrorRate), InternalServerErrorRate),
            (nameof(BadGatewayRate), BadGatewayRate),
            (nameof(ServiceUnavailableRate), ServiceUnavailableRate),
            (nameof(OverloadedRate), OverloadedRate),
            (nameof(ConnectionResetRate), ConnectionResetRate),
            (nameof(HangRate), HangRate),
            (nameof(MalformedBodyRate), MalformedBodyRate),
            (nameof(StreamCutRate), StreamCutRate),
        };
        foreach (var (name, value) in rates)
        {
            if (!(value >= 0 && value <= 1))
            {
                yield return $"{prefix}{name} must be between 0 and 1, but was {value}.";
            }
        }

        var sum = rates.Sum(r => r.Value);
        if (sum > 1 + 1e-9)
        {
            yield return $"The {prefix}*Rate values must add up to at most 1, but add up to {sum}.";
        }

        foreach (var (name, value) in new (string, int?)[]
                 {
                     (nameof(AuthExpiresAfterRequests), AuthExpiresAfterRequests),
                     (nameof(QuotaExhaustedAfterRequests), QuotaExhaustedAfterRequests),
                     (nameof(ContextLengthLimit), ContextLengthLimit),
                 })
        {
            if (value is < 0)
            {
                yield return $"{prefix}{name} must be 0 or more (or null for never), but was {value}.";
            }
        }
    }
}
