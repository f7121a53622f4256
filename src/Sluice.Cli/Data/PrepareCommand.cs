using System.CommandLine;
using Sluice.Cli.Common;

namespace Sluice.Cli.Data;

/// <summary>
/// <c>sluice prepare</c>: makes a batch file (OpenAI Batch API request lines) from a CSV/TSV, a JSONL file or a folder
/// of text files and a Liquid prompt template. docs/data.md describes it.
/// </summary>
internal static class PrepareCommand
{
    public static Command Create()
    {
        var data = new Argument<string>("DATA")
        {
            Description = "The rows: a .csv or .tsv file with a header, a .jsonl file of JSON objects, or a folder of .txt/.md files (fields name, file, text).",
        };
        var template = new Option<string>("--template", "-t")
        {
            Description = "The prompt, a Liquid template naming the row's fields: \"Summarise {{title}}: {{body}}\", or @FILE to read it from a file. A field a row lacks is an error.",
            HelpName = "PROMPT|@FILE",
            Required = true,
        };
        var model = new Option<string>("--model", "-m")
        {
            Description = "The model every line asks for, e.g. gpt-4o-mini or claude-haiku-4-5.",
            HelpName = "MODEL",
            Required = true,
        };
        var system = new Option<string?>("--system")
        {
            Description = "A system prompt for every line (chat: a system message; responses: instructions; anthropic: system).",
            HelpName = "TEXT",
        };
        var maxTokens = OptionKinds.PositiveInt("--max-tokens", $"The output cap of each request (default: none; for --format anthropic, which requires one, {RequestShape.AnthropicDefaultMaxTokens}).");
        var idColumn = new Option<string?>("--id-column")
        {
            Description = "The field whose value is each line's custom_id: non-empty and unique (default: row- and a hash of the row's fields, the same in every run).",
            HelpName = "NAME",
        };
        var format = new Option<string>("--format")
        {
            Description = "The API the lines call: chat (/v1/chat/completions), responses (/v1/responses) or anthropic (/v1/messages).",
            HelpName = "chat|responses|anthropic",
            DefaultValueFactory = _ => "chat",
        };
        format.AcceptOnlyFromAmong("chat", "responses", "anthropic");
        var schema = new Option<string?>("--schema")
        {
            Description = "A JSON schema file: ask for structured output that follows it (chat: response_format json_schema; responses: text.format; anthropic: a forced tool whose input_schema it is).",
            HelpName = "FILE",
        };
        var dataFormat = new Option<string?>("--data-format")
        {
            Description = "csv, tsv, jsonl or folder (default: from DATA's extension, or folder for a folder).",
            HelpName = "csv|tsv|jsonl|folder",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "The batch file to write (default: DATA's name with .requests.jsonl, beside it). Written whole or not at all.",
            HelpName = "BATCH.jsonl",
        };

        var command = new Command(
            "prepare",
            "Make a batch file for sluice run (OpenAI Batch API request lines) from your data and a prompt template: one line per row, " +
            "custom_id from --id-column or a hash of the row. Every problem (a missing field, an empty row, a duplicate id, malformed CSV) " +
            "is reported with its line number, and then nothing is written (exit 2)." +
            "\n\nExample:\n" +
            "  sluice prepare posts.csv --template \"Summarise in one sentence: {{title}}. {{body}}\" --model gpt-4o-mini --id-column id -o posts.jsonl\n" +
            "  (or --template @prompt.txt: a longer prompt, line breaks and all, from a file)\n" +
            "  sluice run posts.jsonl -o results.jsonl\n" +
            "  sluice export results.jsonl --to answers.csv --join posts.csv --id-column id")
        {
            data, template, model, system, maxTokens, idColumn, format, schema, dataFormat, output,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var arguments = new PrepareArguments
            {
                Data = parseResult.GetValue(data)!,
                Template = parseResult.GetValue(template)!,
                Model = parseResult.GetValue(model)!,
                System = parseResult.GetValue(system),
                MaxTokens = parseResult.GetValue(maxTokens),
                IdColumn = parseResult.GetValue(idColumn),
                Format = Enum.Parse<BodyFormat>(parseResult.GetValue(format)!, ignoreCase: true),
                Schema = parseResult.GetValue(schema),
                DataFormat = parseResult.GetValue(dataFormat),
                Output = parseResult.GetValue(output),
            };
            var configuration = parseResult.InvocationConfiguration;
            return await PrepareExecution.ExecuteAsync(arguments, configuration.Output, configuration.Error, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
