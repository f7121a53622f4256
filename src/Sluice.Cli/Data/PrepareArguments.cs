namespace Sluice.Cli.Data;

/// <summary>The options of one <c>sluice prepare</c> as given.</summary>
internal sealed record PrepareArguments
{
    public required string Data { get; init; }

    /// <summary>The template text, or <c>@FILE</c>.</summary>
    public required string Template { get; init; }

    public required string Model { get; init; }

    public string? System { get; init; }

    public int? MaxTokens { get; init; }

    public string? IdColumn { get; init; }

    public BodyFormat Format { get; init; } = BodyFormat.Chat;

    public string? Schema { get; init; }

    public string? DataFormat { get; init; }

    public string? Output { get; init; }
}
