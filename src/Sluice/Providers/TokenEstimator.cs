using System.Text.Json;

namespace Sluice.Providers;

/// <summary>
/// Estimates a request's tokens before it is sent, so the gate can reserve them against the token budget; the answer's
/// <c>usage</c> settles the difference afterwards (<see cref="UsageReader"/>).
/// </summary>
/// <remarks>
/// <para><b>Prompt.</b> The text the model reads (<see cref="PromptText"/>) is counted with <c>o200k_base</c> for the
/// GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o1, o3, o4 and gpt-oss families and <c>cl100k_base</c> for GPT-4, GPT-3.5 and
/// <c>text-embedding-*</c> (<see cref="TokenEncodings"/>). Other models, Anthropic's included (its tokenizer is not
/// public), are estimated at one token per four characters, rounded up. Chat-like requests add
/// <see cref="PromptText.MessageOverhead"/> tokens a message and <see cref="PromptText.ReplyPriming"/> once; image,
/// audio and file parts count <see cref="PromptText.MediaPartTokens"/> each. A body that is not JSON is estimated at one
/// token per four bytes.</para>
/// <para><b>Output cap.</b> The largest of <c>max_tokens</c>, <c>max_completion_tokens</c> and <c>max_output_tokens</c>,
/// or <see cref="OutputCapWhenUnset"/> when the request sets none, times <c>n</c> (default 1, at most
/// <see cref="MaxChoices"/>). Embeddings have no output.</para>
/// </remarks>
internal sealed class TokenEstimator
{
    /// <summary>The output cap assumed when a request sets no output limit: a typical chat answer's worth.</summary>
    public const long DefaultOutputCap = 1_024;

    /// <summary>The most choices (<c>n</c>) counted; OpenAI accepts at most 128.</summary>
    public const int MaxChoices = 128;

    /// <summary>The largest output limit read; no model answers with more, and a larger number would only overflow the reservation.</summary>
    public const long MaxOutputTokens = 10_000_000;

    /// <summary>Makes an estimator.</summary>
    /// <param name="outputCapWhenUnset">The output cap assumed for a request that sets none; from zero to ten million.</param>
    public TokenEstimator(long outputCapWhenUnset = DefaultOutputCap)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outputCapWhenUnset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputCapWhenUnset, MaxOutputTokens);
        OutputCapWhenUnset = outputCapWhenUnset;
    }

    /// <summary>An estimator with the documented defaults; its tokenizers are built on first use and shared by all threads.</summary>
    public static TokenEstimator Shared { get; } = new();

    /// <summary>The output cap assumed for a request that sets none.</summary>
    public long OutputCapWhenUnset { get; }

    /// <summary>The <c>model</c> of a request body.</summary>
    /// <param name="requestBody">The JSON body.</param>
    /// <returns>The model, or <see langword="null"/> when absent, not a string, or the body is not JSON.</returns>
    public static string? ReadModel(ReadOnlySpan<byte> requestBody) =>
        JsonBody.ReadTopLevel(requestBody, "model"u8, static (ref Utf8JsonReader reader) => JsonBody.StringOf(ref reader));

    /// <summary>Estimates a request's prompt tokens and output cap. Never throws on any body.</summary>
    /// <param name="path">The request path, such as <c>/v1/chat/completions</c> or <c>/openai/deployments/x/chat/completions</c>.</param>
    /// <param name="requestBody">The JSON body.</param>
    /// <param name="waitForTokenizer">
    /// False to count at one token per four characters (the floor every estimate keeps) while the model's tokenizer
    /// is still loading, instead of waiting for it: for a caller whose first requests need no exact count.
    /// </param>
    /// <returns>The estimate.</returns>
    public TokenEstimate Estimate(string path, ReadOnlySpan<byte> requestBody, bool waitForTokenizer = true)
    {
        var endpoint = ApiEndpoints.FromPath(path);
        if (!JsonBody.TryParse(requestBody, out var document))
        {
            return new TokenEstimate((requestBody.Length + 3) / 4, endpoint == ApiEndpoint.Embeddings ? 0 : OutputCapWhenUnset);
        }

        using (document)
        {
            return Estimate(path, document.RootElement, waitForTokenizer);
        }
    }

    /// <summary>Estimates a request whose body the caller has already parsed, so the body is parsed once.</summary>
    /// <param name="path">The request path.</param>
    /// <param name="root">The body's root element.</param>
    /// <param name="waitForTokenizer">As for <see cref="Estimate(string, ReadOnlySpan{byte}, bool)"/>.</param>
    /// <returns>The estimate.</returns>
    public TokenEstimate Estimate(string path, JsonElement root, bool waitForTokenizer = true)
    {
        var endpoint = ApiEndpoints.FromPath(path);
        var model = JsonBody.GetText(root, "model") ?? ApiEndpoints.AzureDeployment(path);
        var encoding = TokenEncodings.ForModel(model);
        var counter = new PromptCounter(waitForTokenizer ? TokenEncodings.Tokenizer(encoding) : TokenEncodings.LoadedTokenizer(encoding));
        PromptText.Collect(endpoint, root, counter);
        return new TokenEstimate(counter.Total, endpoint == ApiEndpoint.Embeddings ? 0 : OutputCap(root));
    }

    private long OutputCap(JsonElement root)
    {
        long? cap = null;
        foreach (var name in (ReadOnlySpan<string>)["max_tokens", "max_completion_tokens", "max_output_tokens"])
        {
            if (JsonBody.GetCount(root, name) is { } limit)
            {
                cap = Math.Max(cap ?? 0, Math.Min(limit, MaxOutputTokens));
            }
        }

        var choices = JsonBody.GetCount(root, "n") is { } n and >= 1 ? Math.Min(n, MaxChoices) : 1;
        return (cap ?? OutputCapWhenUnset) * choices;
    }
}
