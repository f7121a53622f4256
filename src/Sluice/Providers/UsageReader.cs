using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sluice.Providers;

/// <summary>
/// Reads the tokens an answer actually used, to settle the gate's reservation, and makes sure streamed chat
/// completions report them.
/// </summary>
/// <remarks>
/// A <c>usage</c> object counts as: its <c>total_tokens</c> when present (OpenAI chat, completions, embeddings and
/// responses); otherwise <c>prompt_tokens</c> or <c>input_tokens</c> (plus Anthropic's <c>cache_creation_input_tokens</c>,
/// which count against its input budget) plus <c>completion_tokens</c> or <c>output_tokens</c>. Anthropic's
/// <c>cache_read_input_tokens</c> do not count against its budgets and are left out.
/// </remarks>
internal static partial class UsageReader
{
    private static readonly byte[] IncludeUsage = ""","stream_options":{"include_usage":true}"""u8.ToArray();

    /// <summary>The total tokens a (non-streamed) answer reports in its <c>usage</c>.</summary>
    /// <param name="responseBody">The answer's body.</param>
    /// <returns>The total, or <see langword="null"/> when the body reports none or is not JSON.</returns>
    public static long? ReadTotal(ReadOnlySpan<byte> responseBody) => Read(responseBody).Total;

    /// <summary>
    /// The tokens a (non-streamed) answer reports in its <c>usage</c>: the total, and the input and output parts each
    /// settle a budget of their own.
    /// </summary>
    /// <param name="responseBody">The answer's body.</param>
    /// <returns>What it reports; parts it does not report (or a body that is not JSON) are <see langword="null"/>.</returns>
    public static TokenUsage Read(ReadOnlySpan<byte> responseBody)
    {
        if (!JsonBody.TryParse(responseBody, out var document))
        {
            return default;
        }

        using (document)
        {
            return FromAnswer(document.RootElement);
        }
    }

    /// <summary>Whether a request body asks for a streamed answer (<c>"stream": true</c>).</summary>
    /// <param name="requestBody">The JSON body.</param>
    /// <returns><see langword="true"/> only for a literal <c>true</c>.</returns>
    public static bool IsStreaming(ReadOnlySpan<byte> requestBody) =>
        JsonBody.ReadTopLevel(requestBody, "stream"u8, static (ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.True);

    /// <summary>
    /// Asks a streamed chat completion to end with a usage chunk (<c>"stream_options":{"include_usage":true}</c>), so a
    /// stream's tokens can be settled like any other answer's.
    /// </summary>
    /// <remarks>
    /// Only for chat completions that stream and do not already say <c>include_usage</c>: a caller that set it, even to
    /// <see langword="false"/>, keeps its choice. The added option is appended as bytes, leaving the rest of the body
    /// exactly as the caller wrote it. The usage chunk has an empty <c>choices</c> list, which clients must tolerate.
    /// </remarks>
    /// <param name="path">The request path.</param>
    /// <param name="requestBody">The JSON body.</param>
    /// <returns>The new body, or <paramref name="requestBody"/> itself when nothing needs adding.</returns>
    public static byte[] EnsureStreamUsage(string path, byte[] requestBody)
    {
        ArgumentNullException.ThrowIfNull(requestBody);
        if (ApiEndpoints.FromPath(path) != ApiEndpoint.ChatCompletions || !IsStreaming(requestBody) ||
            !JsonBody.TryParse(requestBody, out var document))
        {
            return requestBody;
        }

        using (document)
        {
            return EnsureStreamUsage(requestBody, document.RootElement);
        }
    }

    /// <summary>As <see cref="EnsureStreamUsage(string, byte[])"/>, for a streamed chat completion the caller has already parsed.</summary>
    /// <param name="requestBody">The JSON body.</param>
    /// <param name="root">Its parsed root, an object holding <c>"stream": true</c>.</param>
    /// <returns>The new body, or <paramref name="requestBody"/> itself when nothing needs adding.</returns>
    public static byte[] EnsureStreamUsage(byte[] requestBody, JsonElement root)
    {
        if (!root.TryGetProperty("stream_options", out var options))
        {
            return AppendToRoot(requestBody);
        }

        return options.ValueKind == JsonValueKind.Object && options.TryGetProperty("include_usage", out _)
            ? requestBody
            : Rewrite(root);
    }

    // Tokens from a whole answer: its usage, or for a Responses API event the usage of the response it carries.
    private static TokenUsage FromAnswer(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            return FromUsage(usage);
        }

        return root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object &&
            response.TryGetProperty("usage", out usage) && usage.ValueKind == JsonValueKind.Object
            ? FromUsage(usage)
            : default;
    }

    private static TokenUsage FromUsage(JsonElement usage)
    {
        var input = Input(usage);
        var output = Count(usage, "completion_tokens") ?? Count(usage, "output_tokens");
        var total = Count(usage, "total_tokens") ?? Sum(input, output);
        return new TokenUsage(total, input, output) { CachedInput = CachedInput(usage) };
    }

    // Priced apart (docs/spend.md): OpenAI's cached part of the prompt, or Anthropic's cache reads.
    private static long? CachedInput(JsonElement usage)
    {
        foreach (var details in (ReadOnlySpan<string>)["prompt_tokens_details", "input_tokens_details"])
        {
            if (usage.TryGetProperty(details, out var part) && part.ValueKind == JsonValueKind.Object && Count(part, "cached_tokens") is { } cached)
            {
                return cached;
            }
        }

        return Count(usage, "cache_read_input_tokens");
    }

    private static long? Input(JsonElement usage) =>
        Sum(Count(usage, "prompt_tokens") ?? Count(usage, "input_tokens"), Count(usage, "cache_creation_input_tokens"));

    /// <summary>
    /// The most tokens one answer is believed to have used: far past any model's context window, so a real count is
    /// never cut, while a server's absurd one (up to 2^63) can neither overflow a sum nor put a budget into a debt
    /// that would stall its partition for years.
    /// </summary>
    internal const long MaxTokens = 100_000_000;

    /// <summary>A count in a usage object, at most <see cref="MaxTokens"/>.</summary>
    private static long? Count(JsonElement usage, string name) =>
        JsonBody.GetCount(usage, name) is { } count ? Math.Min(count, MaxTokens) : null;

    /// <summary>The sum of two reported parts, null when neither is reported, at most <see cref="MaxTokens"/>.</summary>
    private static long? Sum(long? first, long? second) =>
        first is null && second is null ? null : Math.Min(MaxTokens, Math.Min(first ?? 0, MaxTokens) + Math.Min(second ?? 0, MaxTokens));

    // The body is one well-formed object, so its last non-space byte is the root's closing brace; the root is not empty
    // because it holds "stream": true.
    private static byte[] AppendToRoot(byte[] body)
    {
        var close = body.AsSpan().TrimEnd(" \t\r\n"u8).Length - 1;
        var result = new byte[body.Length + IncludeUsage.Length];
        body.AsSpan(0, close).CopyTo(result);
        IncludeUsage.CopyTo(result.AsSpan(close));
        body.AsSpan(close).CopyTo(result.AsSpan(close + IncludeUsage.Length));
        return result;
    }

    // The rare case of a stream_options without include_usage: write the object again, every other value as it was.
    private static byte[] Rewrite(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("stream_options"))
                {
                    WriteStreamOptions(writer, property.Value);
                    continue;
                }

                writer.WritePropertyName(property.Name);
                writer.WriteRawValue(property.Value.GetRawText(), skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteStreamOptions(Utf8JsonWriter writer, JsonElement options)
    {
        writer.WriteStartObject("stream_options");
        if (options.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in options.EnumerateObject())
            {
                writer.WritePropertyName(option.Name);
                writer.WriteRawValue(option.Value.GetRawText(), skipInputValidation: true);
            }
        }

        writer.WriteBoolean("include_usage", true);
        writer.WriteEndObject();
    }
}
