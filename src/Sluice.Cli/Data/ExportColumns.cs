using System.Globalization;
using System.Text.Json;

namespace Sluice.Cli.Data;

/// <summary>
/// The columns of an export: the joined data's columns first, then custom_id, status, the answer (one <c>answer</c>
/// column, or <c>answer.&lt;field&gt;</c> for structured output), error, input_tokens, output_tokens, cost, cached.
/// A result column whose name a data column already has is written <c>sluice.&lt;name&gt;</c>.
/// </summary>
internal sealed class ExportColumns
{
    public const string NotJson = "not_json";

    private readonly IReadOnlyList<string> _data;
    private readonly IReadOnlyList<string>? _answerFields;

    public ExportColumns(IReadOnlyList<string> data, IReadOnlyList<string>? answerFields)
    {
        _data = data;
        _answerFields = answerFields;
        var taken = new HashSet<string>(data, StringComparer.Ordinal);
        IEnumerable<string> answers = answerFields is null ? ["answer"] : answerFields.Select(f => "answer." + f);
        string[] results = ["custom_id", "status", .. answers, "error", "input_tokens", "output_tokens", "cost", "cached"];
        Renamed = results.Where(taken.Contains).ToList();
        Names = [.. data, .. results.Select(r => taken.Contains(r) ? "sluice." + r : r)];
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>The result columns that took a <c>sluice.</c> prefix.</summary>
    public IReadOnlyList<string> Renamed { get; }

    /// <summary>A row's values: the data row's (null without one), then the result's (a bare id and status without one).</summary>
    public DataField?[] Row(DataRow? row, string customId, ResultRecord? result, string missingStatus, string? note = null)
    {
        var values = new DataField?[Names.Count];
        int i = 0;
        foreach (string name in _data)
        {
            values[i++] = row?.Find(name);
        }

        values[i++] = Text(customId);
        string status = result?.Status ?? missingStatus;
        string? error = result?.Error ?? note;
        IReadOnlyList<DataField>? fields = null;
        if (_answerFields is not null && result is { IsOk: true })
        {
            fields = AnswerObject.Fields(result.Answer);
            if (fields is null)
            {
                status = NotJson;
                error = "the answer is not a JSON object: " + Run.RequestLineCheck.Quote(result.Answer ?? "");
            }
        }

        values[i++] = Text(status);
        if (_answerFields is null)
        {
            values[i++] = result?.Answer is { } answer ? Text(answer) : null;
        }
        else
        {
            foreach (string field in _answerFields)
            {
                values[i++] = fields?.FirstOrDefault(f => f.Name == field) is { Name: not null } value ? value : null;
            }
        }

        values[i++] = error is null ? null : Text(error);
        values[i++] = Number(result?.InputTokens);
        values[i++] = Number(result?.OutputTokens);
        values[i++] = result?.Cost is { } cost ? new DataField("", cost, JsonValueKind.Number) : null;
        values[i++] = result?.Cached is { } cached ? new DataField("", cached ? "true" : "false", cached ? JsonValueKind.True : JsonValueKind.False) : null;
        return values;
    }

    private static DataField Text(string text) => new("", text);

    private static DataField? Number(long? value) => value is { } v ? new DataField("", v.ToString(CultureInfo.InvariantCulture), JsonValueKind.Number) : null;
}
