using System.CommandLine;

namespace Sluice.Cli.Data;

/// <summary>
/// <c>sluice export</c>: turns a results file back into a table, one row per custom_id, joined onto the rows it was
/// prepared from. docs/data.md describes it.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var results = new Argument<string>("RESULTS")
        {
            Description = "The results file of sluice run (OpenAI Batch API output lines).",
        };
        var to = new Option<string>("--to")
        {
            Description = "The table to write: answers.csv, answers.tsv or answers.jsonl (the extension says the format). Columns: the data's (with --join), custom_id, status (ok, or the error code, or missing), answer (or answer.<field> for structured output), error, input_tokens, output_tokens, cost, cached.",
            HelpName = "answers.csv|answers.jsonl",
            Required = true,
        };
        var join = new Option<string?>("--join")
        {
            Description = "The data the batch was prepared from: its rows come first, in its order, each with its result, matched by the id prepare gave it (--id-column, or the row's hash). Rows without a result get status missing.",
            HelpName = "DATA",
        };
        var idColumn = new Option<string?>("--id-column")
        {
            Description = "With --join: the column prepare took custom_id from (give the same as to prepare).",
            HelpName = "NAME",
        };
        var dataFormat = new Option<string?>("--data-format")
        {
            Description = "With --join: csv, tsv, jsonl or folder (default: from the extension).",
            HelpName = "csv|tsv|jsonl|folder",
        };
        var answers = new Option<string>("--answers")
        {
            Description = "text: one answer column; json: the answer's top-level JSON fields as answer.<field> columns (an answer that is not a JSON object gets status not_json); auto: json when more than half of the successful answers are JSON objects.",
            HelpName = "auto|text|json",
            DefaultValueFactory = _ => "auto",
        };
        answers.AcceptOnlyFromAmong("auto", "text", "json");

        var command = new Command(
            "export",
            "Turn a results file into a table: one row per custom_id with its status, answer, usage and cost, joined back onto your data " +
            "with --join. Reads in bounded memory: an index of about 40 bytes per result, never the results themselves." +
            "\n\nExample:\n" +
            "  sluice export results.jsonl --to answers.csv --join posts.csv --id-column id")
        {
            results, to, join, idColumn, dataFormat, answers,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var arguments = new ExportArguments
            {
                Results = parseResult.GetValue(results)!,
                To = parseResult.GetValue(to)!,
                Join = parseResult.GetValue(join),
                IdColumn = parseResult.GetValue(idColumn),
                DataFormat = parseResult.GetValue(dataFormat),
                Answers = Enum.Parse<AnswerMode>(parseResult.GetValue(answers)!, ignoreCase: true),
            };
            var configuration = parseResult.InvocationConfiguration;
            return await ExportExecution.ExecuteAsync(arguments, configuration.Output, configuration.Error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
