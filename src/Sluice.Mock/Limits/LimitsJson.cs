using System.Text.Json;
using Sluice.Text;

namespace Sluice.Mock.Limits;

/// <summary>
/// The JSON form of <see cref="MockLimits"/> used by <c>GET/POST /mock/limits</c> and the stats:
/// <c>{"rpm":600,"tpm":null,"inputTpm":null,"outputTpm":null,"concurrency":8,"burst":"1s"}</c>.
/// </summary>
internal static class LimitsJson
{
    public static void Write(Utf8JsonWriter writer, MockLimits limits)
    {
        writer.WriteStartObject();
        WriteNullable(writer, "rpm", limits.RequestsPerMinute);
        WriteNullable(writer, "tpm", limits.TokensPerMinute);
        WriteNullable(writer, "inputTpm", limits.InputTokensPerMinute);
        WriteNullable(writer, "outputTpm", limits.OutputTokensPerMinute);
        WriteNullable(writer, "concurrency", limits.MaxConcurrency);
        writer.WriteString("burst", DurationText.Format(limits.Burst));
        writer.WriteEndObject();
    }

    /// <summary>
    /// Applies a partial update: a field that is present replaces the current value (<c>null</c> removes the
    /// budget), a field that is absent keeps it. Unknown fields are errors, so a typo never passes silently.
    /// </summary>
    public static bool TryApply(JsonElement body, MockLimits current, out MockLimits updated, out string error)
    {
        if (TryBuild(body, current, out var candidate, out error))
        {
            updated = candidate;
            return true;
        }

        updated = current;
        return false;
    }

    private static bool TryBuild(JsonElement body, MockLimits current, out MockLimits updated, out string error)
    {
        updated = current;
        error = "";
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object such as {\"rpm\":600,\"tpm\":90000,\"burst\":\"1s\"}.";
            return false;
        }

        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "rpm":
                case "tpm":
                case "inputTpm":
                case "outputTpm":
                case "concurrency":
                    if (!TryReadLimit(property.Value, out var value))
                    {
                        error = $"'{property.Name}' must be a positive integer or null.";
                        return false;
                    }

                    updated = property.Name switch
                    {
                        "rpm" => updated with { RequestsPerMinute = value },
                        "tpm" => updated with { TokensPerMinute = value },
                        "inputTpm" => updated with { InputTokensPerMinute = value },
                        "outputTpm" => updated with { OutputTokensPerMinute = value },
                        _ => updated with { MaxConcurrency = value },
                    };
                    break;
                case "burst":
                    if (property.Value.ValueKind != JsonValueKind.String ||
                        !DurationText.TryParse(property.Value.GetString(), out var burst))
                    {
                        error = "'burst' must be a duration such as \"1s\", \"500ms\" or \"1m\".";
                        return false;
                    }

                    updated = updated with { Burst = burst };
                    break;
                default:
                    error = $"Unknown field '{property.Name}'; expected rpm, tpm, inputTpm, outputTpm, concurrency or burst.";
                    return false;
            }
        }

        var problems = updated.Validate("").ToList();
        if (problems.Count > 0)
        {
            error = string.Join(" ", problems);
            return false;
        }

        return true;
    }

    private static bool TryReadLimit(JsonElement value, out int? limit)
    {
        limit = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 1)
        {
            limit = number;
            return true;
        }

        return false;
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, int? value)
    {
        if (value is int v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
