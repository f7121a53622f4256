namespace Sluice.Cli.Data;

/// <summary>
/// An answer read as structured output: a JSON object whose top-level fields become <c>answer.&lt;field&gt;</c>
/// columns (a string as its text, anything else as its JSON). Markdown code fences around the object are allowed,
/// since models add them to JSON asked for in words.
/// </summary>
internal static class AnswerObject
{
    /// <summary>The fields, or null when the answer is not a JSON object.</summary>
    public static IReadOnlyList<DataField>? Fields(string? answer)
    {
        if (answer is null)
        {
            return null;
        }

        string text = Unfenced(answer.Trim());
        if (!text.StartsWith('{'))
        {
            return null;
        }

        var row = JsonlRows.Parse(0, "", text);
        return row.Problem is null ? row.Fields : null;
    }

    private static string Unfenced(string text)
    {
        if (!text.StartsWith("```", StringComparison.Ordinal) || !text.EndsWith("```", StringComparison.Ordinal) || text.Length < 6)
        {
            return text;
        }

        int firstBreak = text.IndexOf('\n', StringComparison.Ordinal);
        return firstBreak < 0 ? text : text[(firstBreak + 1)..^3].Trim();
    }
}
