using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.Mock.Content;

/// <summary>
/// Structured output for the mock: a JSON value that follows a JSON schema, made from the prompt so that the same
/// prompt and schema always give the same answer. Each property by type: a string is a few words chosen by a hash
/// of the prompt and the property's path; a number or an integer a number from that hash (inside
/// <c>minimum</c>/<c>maximum</c> when given); a boolean a bit of it; an array one element of its <c>items</c>; an
/// object its properties, recursed; <c>enum</c> its first value and <c>const</c> its value. <c>anyOf</c>/<c>oneOf</c>
/// take their first branch and local <c>$ref</c>s (<c>#/$defs/…</c>, <c>#/definitions/…</c>) are followed.
/// </summary>
/// <remarks>
/// Bounded, because the schema comes from the client: nesting deeper than <see cref="MaxDepth"/> is written as
/// <c>null</c> and at most <see cref="MaxProperties"/> properties are written in the whole answer (OpenAI's own
/// limits are 5 levels and 100 properties, so a schema a provider accepts always fits).
/// </remarks>
internal static class SchemaAnswer
{
    public const int MaxDepth = 8;

    public const int MaxProperties = 100;

    private static readonly string[] Words =
    [
        "sluice", "gate", "river", "budget", "token", "stream", "minute", "steady",
        "water", "flow", "paced", "queue", "lock", "channel", "level", "basin",
    ];

    /// <summary>The answer to <paramref name="prompt"/> that follows <paramref name="schema"/>, as compact JSON.</summary>
    public static string For(JsonElement schema, string prompt)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var budget = MaxProperties;
            Write(writer, schema, schema, prompt, "$", 0, ref budget);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The answer to a <c>json_object</c> request, which has no schema: <c>{"reply": "…"}</c>.</summary>
    public static string JsonObject(string prompt)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("reply", Text(prompt, "$.reply"));
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter writer, JsonElement root, JsonElement schema, string prompt, string path, int depth, ref int budget)
    {
        if (depth > MaxDepth || schema.ValueKind != JsonValueKind.Object)
        {
            writer.WriteNullValue();
            return;
        }

        if (schema.TryGetProperty("$ref", out var reference) && Resolve(root, reference) is { } target)
        {
            Write(writer, root, target, prompt, path, depth + 1, ref budget);
            return;
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            constant.WriteTo(writer);
            return;
        }

        if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
        {
            values[0].WriteTo(writer);
            return;
        }

        foreach (var branches in (ReadOnlySpan<string>)["anyOf", "oneOf", "allOf"])
        {
            if (schema.TryGetProperty(branches, out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0)
            {
                Write(writer, root, list[0], prompt, path, depth + 1, ref budget);
                return;
            }
        }

        var hash = DeterministicHash.Of(prompt + "\n" + path);
        switch (TypeOf(schema))
        {
            case "object":
                writer.WriteStartObject();
                if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        if (budget <= 0)
                        {
                            break;
                        }

                        budget--;
                        writer.WritePropertyName(property.Name);
                        Write(writer, root, property.Value, prompt, path + "." + property.Name, depth + 1, ref budget);
                    }
                }

                writer.WriteEndObject();
                break;
            case "array":
                writer.WriteStartArray();
                if (schema.TryGetProperty("items", out var items))
                {
                    Write(writer, root, items, prompt, path + "[0]", depth + 1, ref budget);
                }

                writer.WriteEndArray();
                break;
            case "string":
                writer.WriteStringValue(Text(prompt, path));
                break;
            case "integer":
                writer.WriteNumberValue(decimal.Truncate(Clamp(schema, hash % 1000)));
                break;
            case "number":
                writer.WriteNumberValue(Clamp(schema, (hash % 100_000) / 100m));
                break;
            case "boolean":
                writer.WriteBooleanValue((hash & 1) == 1);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>The schema's type; the first that is not <c>null</c> when it lists several; <c>object</c> when it only has properties.</summary>
    private static string? TypeOf(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String)
            {
                return type.GetString();
            }

            if (type.ValueKind == JsonValueKind.Array)
            {
                foreach (var each in type.EnumerateArray())
                {
                    if (each.ValueKind == JsonValueKind.String && !each.ValueEquals("null"))
                    {
                        return each.GetString();
                    }
                }

                return "null";
            }
        }

        return schema.TryGetProperty("properties", out _) ? "object" : null;
    }

    /// <summary>Follows <c>#/$defs/Name</c> or <c>#/definitions/Name</c>; anything else is not resolved.</summary>
    private static JsonElement? Resolve(JsonElement root, JsonElement reference)
    {
        if (reference.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var parts = reference.GetString()!.Split('/');
        if (parts.Length != 3 || parts[0] != "#" || root.ValueKind != JsonValueKind.Object ||
            !root.TryGetProperty(parts[1], out var definitions) || definitions.ValueKind != JsonValueKind.Object ||
            !definitions.TryGetProperty(parts[2], out var target))
        {
            return null;
        }

        return target;
    }

    private static decimal Clamp(JsonElement schema, decimal value)
    {
        if (schema.TryGetProperty("minimum", out var minimum) && minimum.ValueKind == JsonValueKind.Number &&
            minimum.TryGetDecimal(out var min) && value < min)
        {
            value = min;
        }

        if (schema.TryGetProperty("maximum", out var maximum) && maximum.ValueKind == JsonValueKind.Number &&
            maximum.TryGetDecimal(out var max) && value > max)
        {
            value = max;
        }

        return value;
    }

    /// <summary>Two words chosen by a hash of the prompt and the path, so different fields and prompts differ.</summary>
    private static string Text(string prompt, string path)
    {
        var state = DeterministicHash.Of(prompt + "\n" + path);
        var first = Words[(int)(DeterministicHash.Next(ref state) % (ulong)Words.Length)];
        var second = Words[(int)(DeterministicHash.Next(ref state) % (ulong)Words.Length)];
        return string.Create(CultureInfo.InvariantCulture, $"{first} {second}");
    }
}
