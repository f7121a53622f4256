namespace Sluice.Mock.Requests;

/// <summary>An error answer in the provider's own shape.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Type">OpenAI's <c>error.type</c>, or Anthropic's.</param>
/// <param name="Message">The human-readable message.</param>
/// <param name="Param">OpenAI's <c>error.param</c>; Anthropic's shape has none.</param>
/// <param name="Code">OpenAI's <c>error.code</c>; Anthropic's shape has none.</param>
/// <param name="StatsReason">The key under <c>rejected</c> in the stats, or null for an injected fault, counted under <c>faults</c>.</param>
internal sealed record ApiError(int Status, string Type, string Message, string? Param, string? Code, string? StatsReason);
