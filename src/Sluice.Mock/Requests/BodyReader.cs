using System.Text;
using System.Text.Json;

namespace Sluice.Mock.Requests;

/// <summary>
/// Reads fields of a request body with the provider's validation errors. The first problem is kept in
/// <see cref="Error"/>; later reads after a problem return defaults, so a parser reads everything and checks once.
/// </summary>
internal sealed class BodyReader
{
    private readonly JsonElement _body;

    public BodyReader(JsonElement body, Provider provider)
    {
        _body = body;
        Provider = provider;
        if (body.ValueKind != JsonValueKind.Object)
        {
            Error = ApiErrors.InvalidType(provider, "body", "an object", body.ValueKind);
        }
    }

    public Provider Provider { get; }

    public ApiError? Error { get; private set; }

    public string RequiredString(string name)
    {
        if (Error is not null)
        {
            return "";
        }

        if (!_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            Error = ApiErrors.Missing(Provider, name);
            return "";
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Error = ApiErrors.InvalidType(Provider, name, "a string", value.ValueKind);
            return "";
        }

        return value.GetString()!;
    }

    /// <summary>A required array with at least one element.</summary>
    public JsonElement RequiredArray(string name)
    {
        if (Error is not null)
        {
            return default;
        }

        if (!_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            Error = ApiErrors.Missing(Provider, name);
            return default;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Error = ApiErrors.InvalidType(Provider, name, "an array", value.ValueKind);
            return default;
        }

        if (value.GetArrayLength() == 0)
        {
            Error = ApiErrors.EmptyArray(Provider, name);
            return default;
        }

        return value;
    }

    /// <summary>An optional integer of at least <paramref name="minimum"/> (and at most <paramref name="maximum"/>).</summary>
    public long? OptionalInteger(string name, long minimum, long maximum = int.MaxValue)
    {
        if (Error is not null || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            Error = ApiErrors.InvalidType(Provider, name, "an integer", value.ValueKind);
            return null;
        }

        if (number < minimum)
        {
            Error = ApiErrors.BelowMinimum(Provider, name, minimum, number);
            return null;
        }

        if (number > maximum)
        {
            Error = ApiErrors.InvalidValue(Provider, name, $"integer above maximum value. Expected a value <= {maximum}, but got {number} instead.");
            return null;
        }

        return number;
    }

    public bool OptionalBoolean(string name)
    {
        if (Error is not null || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error = ApiErrors.InvalidType(Provider, name, "a boolean", value.ValueKind);
            return false;
        }

        return value.GetBoolean();
    }

    /// <summary>An optional object, or null when absent.</summary>
    public JsonElement? OptionalObject(string name)
    {
        if (Error is not null || !_body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            Error = ApiErrors.InvalidType(Provider, name, "an object", value.ValueKind);
            return null;
        }

        return value;
    }

    /// <summary>The optional <c>metadata.custom_id</c> string that identifies a request across retries.</summary>
    public string? CustomId()
    {
        if (OptionalObject("metadata") is { } metadata &&
            metadata.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            return id.GetString();
        }

        return null;
    }

    public void Fail(ApiError error) => Error ??= error;

    /// <summary>
    /// The text of a message's content: a string, or the <c>text</c> of each part in an array of parts
    /// (other parts, such as images, are not counted). Returns null when the content has another shape.
    /// </summary>
    public static string? TextOf(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString();
            case JsonValueKind.Null:
                return "";
            case JsonValueKind.Array:
                var text = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object &&
                        part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
                    {
                        text.Append(partText.GetString());
                    }
                    else if (part.ValueKind == JsonValueKind.String)
                    {
                        text.Append(part.GetString());
                    }
                }

                return text.ToString();
            default:
                return null;
        }
    }
}
