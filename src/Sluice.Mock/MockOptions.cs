using System.Net;
using Microsoft.Extensions.Options;
using Sluice.Mock.Requests;

namespace Sluice.Mock;

/// <summary>
/// How a <see cref="MockServer"/> listens, what it enforces and how it misbehaves. Validated once by
/// <see cref="MockServer.StartAsync(MockOptions, CancellationToken)"/> and then copied: later changes to this
/// object do not reach a running server (use <see cref="MockServer.SetLimits(MockLimits)"/> for the budgets).
/// </summary>
public sealed class MockOptions
{
    /// <summary>The address to listen on.</summary>
    /// <value>Default: <see cref="IPAddress.Loopback"/> (127.0.0.1). Any other address needs <see cref="AllowNonLoopback"/>.</value>
    public IPAddress ListenAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The TCP port to listen on; 0 lets the system pick a free one, reported by <see cref="MockServer.BaseUrl"/>.</summary>
    /// <value>Default: 0.</value>
    public int Port { get; set; }

    /// <summary>Allows a <see cref="ListenAddress"/> that other machines can reach. The mock has no authentication.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool AllowNonLoopback { get; set; }

    /// <summary>
    /// Where the API is served, in place of <c>/v1</c>, as an OpenAI-compatible provider serves it under the path of its
    /// documented base URL: <c>/v1beta/openai</c> serves <c>/v1beta/openai/chat/completions</c>, <c>/openai/v1</c>
    /// serves <c>/openai/v1/chat/completions</c>, and <c>/</c> serves <c>/chat/completions</c>. Paths outside it get the
    /// provider's 404, so a client that joins its base URL wrongly finds out. <c>/mock/…</c> stays at the root.
    /// </summary>
    /// <value>Default: <c>/v1</c>.</value>
    public string ApiRoot { get; set; } = "/v1";

    /// <summary>The budgets to enforce.</summary>
    /// <value>Default: no limits, burst 1 second.</value>
    public MockLimits Limits { get; set; } = new();

    /// <summary>The faults to inject.</summary>
    /// <value>Default: none.</value>
    public MockFaults Faults { get; set; } = new();

    /// <summary>
    /// Whether every answer carries the provider's rate-limit headers (<c>x-ratelimit-*</c>, or
    /// <c>anthropic-ratelimit-*</c> on <c>/v1/messages</c>). Some providers and gateways send none.
    /// </summary>
    /// <value>Default: <see langword="true"/>.</value>
    public bool RateLimitHeaders { get; set; } = true;

    /// <summary>Time before each admitted request is answered (before its first byte, for a stream).</summary>
    /// <value>Default: 0.</value>
    public TimeSpan Latency { get; set; }

    /// <summary>Each answer's latency is <see cref="Latency"/> plus a uniform draw in ±jitter (never below 0).</summary>
    /// <value>Default: 0.</value>
    public TimeSpan LatencyJitter { get; set; }

    /// <summary>Extra time per output token: a stream sends one token per event at this pace; a plain answer waits for all of them.</summary>
    /// <value>Default: 0.</value>
    public TimeSpan TimePerOutputToken { get; set; }

    /// <summary>
    /// The output cap charged to the token budget when a request names none (<c>max_tokens</c>,
    /// <c>max_completion_tokens</c> or <c>max_output_tokens</c>). Anthropic requires <c>max_tokens</c>.
    /// </summary>
    /// <value>Default: 256.</value>
    public int DefaultMaxOutputTokens { get; set; } = 256;

    /// <summary>How many tokens a reply has before its output cap cuts it (then its finish reason is <c>length</c>).</summary>
    /// <value>Default: 20.</value>
    public int ReplyTokens { get; set; } = 20;

    /// <summary>The model names the mock knows; a request for another gets the provider's unknown-model error. A name with a date suffix (<c>gpt-4o-2024-08-06</c>) counts as its base name.</summary>
    /// <value>Default: current OpenAI chat, reasoning and embedding models and Anthropic Claude models; see docs/mock.md.</value>
    public IList<string> Models { get; } = [.. ModelCatalog.DefaultModels];

    /// <summary>Accepts any model name, ignoring <see cref="Models"/>.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool AcceptAnyModel { get; set; }

    /// <summary>Seeds the fault and latency draws, so a run can be repeated.</summary>
    /// <value>Default: 0.</value>
    public int Seed { get; set; }

    /// <summary>The length of the sliding windows over which the budget audit checks what was admitted.</summary>
    /// <value>Default: 1 minute.</value>
    public TimeSpan AuditWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock for budgets, latency and timestamps; tests pass a fake one.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long a Batch API batch takes from creation to its end, spread evenly over its lines so that its request
    /// counts advance (the first 5% validating, the last 5% finalizing). The time compression of <c>sluice mock --batch-time</c>.
    /// </summary>
    /// <value>Default: 10 seconds.</value>
    public TimeSpan BatchProcessingTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A batch's completion window: lines not done by then end as expired (OpenAI <c>batch_expired</c>, Anthropic <c>expired</c>).</summary>
    /// <value>Default: 24 hours, as both providers.</value>
    public TimeSpan BatchCompletionWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Share of batch lines that fail with a 500 <c>server_error</c> (Anthropic: an <c>api_error</c> errored result), drawn from <see cref="Seed"/>.</summary>
    /// <value>Default: 0.</value>
    public double BatchLineFailureRate { get; set; }

    /// <summary>Lines in one batch, at most: OpenAI's per-file limit (Anthropic's own limit, 100,000 requests, also applies to its batches).</summary>
    /// <value>Default: 50,000.</value>
    public int MaxBatchRequests { get; set; } = 50_000;

    /// <summary>Bytes in one batch input file (OpenAI; Anthropic's batches are limited to 256 MB), at most.</summary>
    /// <value>Default: 200 MB (200 × 1024 × 1024 bytes).</value>
    public long MaxBatchFileBytes { get; set; } = 200L * 1024 * 1024;

    /// <summary>
    /// OpenAI's enqueued-token limit per model: a batch whose estimated tokens (prompt estimate plus output cap of
    /// every line), added to those of the model's other unfinished batches, pass it fails validation with
    /// <c>token_limit_exceeded</c>. Null for no limit.
    /// </summary>
    /// <value>Default: <see langword="null"/> (unlimited).</value>
    public long? MaxEnqueuedTokens { get; set; }

    /// <summary>Batches held at once, over both providers; beyond it the oldest ended batch is forgotten, or a new one is refused with 429 when none has ended.</summary>
    /// <value>Default: 1,000.</value>
    public int MaxBatches { get; set; } = 1_000;

    /// <summary>Bytes of uploaded files held at once; an upload past it is refused with 400 until files are deleted.</summary>
    /// <value>Default: 1 GB (1024 × 1024 × 1024 bytes).</value>
    public long MaxStoredFileBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Throws one exception that lists every invalid setting.</summary>
    /// <exception cref="OptionsValidationException">Some setting is invalid.</exception>
    internal void Validate()
    {
        var errors = new List<string>();
        if (ListenAddress is null)
        {
            errors.Add($"{nameof(ListenAddress)} is required.");
        }
        else if (!IPAddress.IsLoopback(ListenAddress) && !AllowNonLoopback)
        {
            errors.Add($"{nameof(ListenAddress)} {ListenAddress} is not a loopback address; set {nameof(AllowNonLoopback)} to listen on it.");
        }

        if (Port is < 0 or > 65535)
        {
            errors.Add($"{nameof(Port)} must be between 0 and 65535, but was {Port}.");
        }

        if (ApiRootProblem(ApiRoot) is { } rootProblem)
        {
            errors.Add($"{nameof(ApiRoot)} {rootProblem}, but was '{ApiRoot}'.");
        }

        if (Limits is null)
        {
            errors.Add($"{nameof(Limits)} is required.");
        }
        else
        {
            errors.AddRange(Limits.Validate($"{nameof(Limits)}."));
        }

        if (Faults is null)
        {
            errors.Add($"{nameof(Faults)} is required.");
        }
        else
        {
            errors.AddRange(Faults.Validate($"{nameof(Faults)}."));
        }

        foreach (var (name, value) in new[]
                 {
                     (nameof(Latency), Latency),
                     (nameof(LatencyJitter), LatencyJitter),
                     (nameof(TimePerOutputToken), TimePerOutputToken),
                 })
        {
            if (value < TimeSpan.Zero)
            {
                errors.Add($"{name} must not be negative, but was {value}.");
            }
        }

        if (DefaultMaxOutputTokens < 1)
        {
            errors.Add($"{nameof(DefaultMaxOutputTokens)} must be at least 1, but was {DefaultMaxOutputTokens}.");
        }

        if (ReplyTokens < 1)
        {
            errors.Add($"{nameof(ReplyTokens)} must be at least 1, but was {ReplyTokens}.");
        }

        if (AuditWindow <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(AuditWindow)} must be more than 0, but was {AuditWindow}.");
        }

        if (BatchProcessingTime <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(BatchProcessingTime)} must be more than 0, but was {BatchProcessingTime}.");
        }

        if (BatchCompletionWindow <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(BatchCompletionWindow)} must be more than 0, but was {BatchCompletionWindow}.");
        }

        if (double.IsNaN(BatchLineFailureRate) || BatchLineFailureRate is < 0 or > 1)
        {
            errors.Add($"{nameof(BatchLineFailureRate)} must be between 0 and 1, but was {BatchLineFailureRate}.");
        }

        foreach (var (name, value) in new[]
                 {
                     (nameof(MaxBatchRequests), (long)MaxBatchRequests),
                     (nameof(MaxBatchFileBytes), MaxBatchFileBytes),
                     (nameof(MaxEnqueuedTokens), MaxEnqueuedTokens ?? 1),
                     (nameof(MaxBatches), (long)MaxBatches),
                     (nameof(MaxStoredFileBytes), MaxStoredFileBytes),
                 })
        {
            if (value < 1)
            {
                errors.Add($"{name} must be at least 1, but was {value}.");
            }
        }

        if (TimeProvider is null)
        {
            errors.Add($"{nameof(TimeProvider)} is required.");
        }

        if (errors.Count > 0)
        {
            throw new OptionsValidationException(nameof(MockOptions), typeof(MockOptions), errors);
        }
    }

    /// <summary>A copy for the engine that answers batch lines: the same models and reply settings, no latency or faults.</summary>
    internal MockOptions ForBatchAnswers()
    {
        var copy = new MockOptions
        {
            ApiRoot = ApiRoot,
            Limits = Limits,
            RateLimitHeaders = false,
            DefaultMaxOutputTokens = DefaultMaxOutputTokens,
            ReplyTokens = ReplyTokens,
            AcceptAnyModel = AcceptAnyModel,
            Seed = unchecked(Seed + 1),
            AuditWindow = AuditWindow,
            TimeProvider = TimeProvider,
        };
        copy.Models.Clear();
        foreach (var model in Models)
        {
            copy.Models.Add(model);
        }

        return copy;
    }

    private static string? ApiRootProblem(string? root) =>
        root is null || !root.StartsWith('/') ? "must be a path starting with /"
        : root.IndexOfAny(['?', '#', '%', '\\']) >= 0 || root.Contains("//", StringComparison.Ordinal) ||
          root.Split('/').Any(segment => segment is "." or "..") ? "must be plain path segments, without a query, escapes or dot segments"
        : root.TrimEnd('/').Equals("/mock", StringComparison.OrdinalIgnoreCase) || root.StartsWith("/mock/", StringComparison.OrdinalIgnoreCase) ? "must not be under /mock, where the statistics are"
        : null;
}
