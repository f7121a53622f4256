namespace Sluice.Cli.Data;

/// <summary>How export reads the answers: as text, as JSON objects into columns, or whichever most of them are.</summary>
internal enum AnswerMode
{
    /// <summary>JSON columns when more than half of the successful answers are JSON objects, else text.</summary>
    Auto,

    /// <summary>One <c>answer</c> column with the answer's text.</summary>
    Text,

    /// <summary><c>answer.&lt;field&gt;</c> columns; an answer that is not a JSON object gets status <c>not_json</c>.</summary>
    Json,
}

/// <summary>The options of one <c>sluice export</c> as given.</summary>
internal sealed record ExportArguments
{
    public required string Results { get; init; }

    public required string To { get; init; }

    public string? Join { get; init; }

    public string? IdColumn { get; init; }

    public string? DataFormat { get; init; }

    public AnswerMode Answers { get; init; }
}
