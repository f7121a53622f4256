using System.Text;
using System.Text.Json;

namespace Sluice.Cli.Data;

/// <summary>
/// A JSON schema file for structured output: the schema (a JSON object, kept as written) and the name the APIs need
/// (its <c>title</c>, else the file's name, reduced to the letters, digits, _ and - they accept, at most 64).
/// </summary>
internal sealed record OutputSchema(string Name, JsonElement Schema)
{
    /// <summary>The name of the tool an Anthropic line is made to call, when no title names it.</summary>
    public const string DefaultName = "answer";

    public static OutputSchema? Load(string path, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            problem = $"--schema: no such file: {path}";
            return null;
        }

        JsonElement schema;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            schema = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            problem = $"--schema: {path} is not valid JSON ({exception.Message.Split(" Path:")[0].TrimEnd('.')})";
            return null;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            problem = $"--schema: {path} must hold a JSON schema object, such as {{\"type\":\"object\",\"properties\":{{...}}}}";
            return null;
        }

        string title = schema.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : Path.GetFileNameWithoutExtension(path);
        return new OutputSchema(Clean(title), schema);
    }

    private static string Clean(string name)
    {
        var clean = new StringBuilder();
        foreach (char c in name)
        {
            if (clean.Length == 64)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            {
                clean.Append(c);
            }
            else if (c is ' ' or '.')
            {
                clean.Append('_');
            }
        }

        return clean.Length == 0 ? DefaultName : clean.ToString();
    }
}
