using System.Text.Json;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>Reads a list of chat messages (OpenAI or Anthropic): checks each has a role and readable content, and counts their text.</summary>
internal static class MessageText
{
    /// <returns>The characters of text in every message, and the text of the last user message.</returns>
    public static (long Characters, string LastUser) Read(BodyReader reader, JsonElement messages, string field)
    {
        long characters = 0;
        var lastUser = "";
        if (reader.Error is not null)
        {
            return (0, "");
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var name = $"{field}[{index}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                reader.Fail(ApiErrors.InvalidType(reader.Provider, name, "an object", message.ValueKind));
                break;
            }

            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                reader.Fail(ApiErrors.Missing(reader.Provider, $"{name}.role"));
                break;
            }

            var text = "";
            if (message.TryGetProperty("content", out var content))
            {
                text = BodyReader.TextOf(content);
                if (text is null)
                {
                    reader.Fail(ApiErrors.InvalidType(reader.Provider, $"{name}.content", "a string or an array of content parts", content.ValueKind));
                    break;
                }
            }

            characters += text.Length;
            if (role.ValueEquals("user"))
            {
                lastUser = text;
            }

            index++;
        }

        return (characters, lastUser);
    }
}
