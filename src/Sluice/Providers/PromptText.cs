using System.Text.Json;

namespace Sluice.Providers;

/// <summary>
/// Finds the text a request's model will read, for each endpoint, and feeds it to a <see cref="PromptCounter"/>. Only
/// values the model sees are counted: message contents, instructions, tool calls and tool definitions, not structural
/// fields such as <c>role</c> or <c>type</c>.
/// </summary>
internal static class PromptText
{
    /// <summary>Tokens added for each message (or input item) for the role and separators providers wrap it in.</summary>
    public const int MessageOverhead = 4;

    /// <summary>Tokens added once to a chat-like request for the reply's priming.</summary>
    public const int ReplyPriming = 3;

    /// <summary>
    /// The flat cost of an image, audio clip or file part. Real costs depend on size and detail (OpenAI counts 85 for a
    /// low-detail image and 765 for a 1024×1024 one; Anthropic about width×height/750); a settled reservation corrects the
    /// difference, and erring high costs only a little waiting, never a 429.
    /// </summary>
    public const int MediaPartTokens = 1_000;

    // Fields that shape a request without being read by the model as text.
    private static readonly HashSet<string> StructuralKeys = new(StringComparer.Ordinal)
    {
        "role", "type", "id", "tool_call_id", "tool_use_id", "call_id", "media_type", "detail", "cache_control", "format",
        "mime_type", "signature", "status",
    };

    // Part types whose content is media, costed flat instead of tokenising base64 or a URL.
    private static readonly HashSet<string> MediaTypes = new(StringComparer.Ordinal)
    {
        "image_url", "input_image", "image", "document", "input_file", "file", "input_audio", "audio",
    };

    /// <summary>Counts a request's prompt.</summary>
    /// <param name="endpoint">Where the request goes.</param>
    /// <param name="root">The request body.</param>
    /// <param name="counter">Receives the prompt.</param>
    public static void Collect(ApiEndpoint endpoint, JsonElement root, PromptCounter counter)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        switch (endpoint)
        {
            case ApiEndpoint.ChatCompletions:
                Messages(root, "messages", counter);
                Tools(root, counter);
                counter.AddTokens(ReplyPriming);
                break;
            case ApiEndpoint.Messages:
                Content(root, "system", counter);
                Messages(root, "messages", counter);
                Tools(root, counter);
                counter.AddTokens(ReplyPriming);
                break;
            case ApiEndpoint.Responses:
                Content(root, "instructions", counter);
                Messages(root, "input", counter);
                Tools(root, counter);
                counter.AddTokens(ReplyPriming);
                break;
            case ApiEndpoint.Embeddings:
                Inputs(root, "input", counter);
                break;
            case ApiEndpoint.Completions:
                Inputs(root, "prompt", counter);
                break;
            default:
                Content(root, "system", counter);
                Content(root, "instructions", counter);
                Messages(root, "messages", counter);
                Messages(root, "input", counter);
                Inputs(root, "prompt", counter);
                Tools(root, counter);
                break;
        }
    }

    // A list of messages (or a plain string, as the Responses API's input may be): each item adds its overhead.
    private static void Messages(JsonElement root, string name, PromptCounter counter)
    {
        if (!root.TryGetProperty(name, out var messages))
        {
            return;
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            Walk(messages, counter);
            return;
        }

        foreach (var message in messages.EnumerateArray())
        {
            counter.AddTokens(MessageOverhead);
            Walk(message, counter);
        }
    }

    private static void Content(JsonElement root, string name, PromptCounter counter)
    {
        if (root.TryGetProperty(name, out var content))
        {
            Walk(content, counter);
        }
    }

    // Tool and function definitions are sent to the model as text; their JSON is a close stand-in for it.
    private static void Tools(JsonElement root, PromptCounter counter)
    {
        foreach (var name in (ReadOnlySpan<string>)["tools", "functions"])
        {
            if (root.TryGetProperty(name, out var tools) && tools.ValueKind is JsonValueKind.Array or JsonValueKind.Object)
            {
                counter.AddText(tools.GetRawText());
            }
        }
    }

    // Embeddings and legacy completions take a string, a list of strings, a list of token ids or a list of such lists.
    private static void Inputs(JsonElement root, string name, PromptCounter counter)
    {
        if (root.TryGetProperty(name, out var input))
        {
            Input(input, counter);
        }
    }

    private static void Input(JsonElement input, PromptCounter counter)
    {
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                counter.AddText(input.GetString());
                break;
            case JsonValueKind.Number:
                counter.AddTokens(1);   // one token id
                break;
            case JsonValueKind.Array:
                foreach (var item in input.EnumerateArray())
                {
                    Input(item, counter);
                }

                break;
        }
    }

    private static void Walk(JsonElement element, PromptCounter counter)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var text = element.GetString();
                if (text is not null && text.StartsWith("data:", StringComparison.Ordinal))
                {
                    counter.AddTokens(MediaPartTokens);   // an inline data URL: its base64 is not prompt text
                }
                else
                {
                    counter.AddText(text);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, counter);
                }

                break;
            case JsonValueKind.Object:
                if (JsonBody.GetText(element, "type") is { } type && MediaTypes.Contains(type))
                {
                    counter.AddTokens(MediaPartTokens);
                    break;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (!StructuralKeys.Contains(property.Name))
                    {
                        Walk(property.Value, counter);
                    }
                }

                break;
        }
    }
}
