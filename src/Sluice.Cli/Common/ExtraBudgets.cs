using System.CommandLine;
using Sluice.Gate;

namespace Sluice.Cli.Common;

/// <summary>
/// The budgets beyond <c>--rpm</c> and <c>--tpm</c> that <c>sluice run</c> and <c>sluice proxy</c> accept alike:
/// input and output tokens per minute (Anthropic states both in its headers, where they are learned anyway) and
/// per-day request and token budgets.
/// </summary>
internal sealed record ExtraBudgets(int? InputTokensPerMinute, int? OutputTokensPerMinute, int? RequestsPerDay, int? TokensPerDay)
{
    public static readonly ExtraBudgets None = new(null, null, null, null);

    public bool IsEmpty => this == None;

    /// <summary>The options, to add to a command; read them back with <see cref="Read"/>.</summary>
    public static Option<int?>[] Options() =>
    [
        OptionKinds.PositiveInt("--input-tpm", "Input (prompt) token budget per minute, reserved at the prompt estimate and settled with the answer's input tokens (default: none; learned from Anthropic's headers)."),
        OptionKinds.PositiveInt("--output-tpm", "Output token budget per minute, reserved at the request's max_tokens (or 1,024 when it sets none) and settled with the answer's output tokens (default: none; learned from Anthropic's headers)."),
        OptionKinds.PositiveInt("--rpd", "Request budget per day: no 24 hours hold more (default: none; learned from x-ratelimit-*-requests-day headers)."),
        OptionKinds.PositiveInt("--tpd", "Token budget per day, prompt estimate plus output cap, settled with actual usage (default: none)."),
    ];

    public static ExtraBudgets Read(ParseResult parseResult, Option<int?>[] options) => new(
        parseResult.GetValue(options[0]),
        parseResult.GetValue(options[1]),
        parseResult.GetValue(options[2]),
        parseResult.GetValue(options[3]));

    /// <summary>Puts these budgets into <paramref name="limits"/>, leaving its other settings alone.</summary>
    public PartitionLimits ApplyTo(PartitionLimits limits)
    {
        limits.InputTokensPerWindow = InputTokensPerMinute;
        limits.OutputTokensPerWindow = OutputTokensPerMinute;
        limits.RequestsPerDay = RequestsPerDay;
        limits.TokensPerDay = TokensPerDay;
        return limits;
    }
}
