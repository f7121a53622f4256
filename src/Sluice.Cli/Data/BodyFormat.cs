namespace Sluice.Cli.Data;

/// <summary>Which API the prepared lines call.</summary>
internal enum BodyFormat
{
    /// <summary>OpenAI chat completions: <c>/v1/chat/completions</c>, <c>messages</c>.</summary>
    Chat,

    /// <summary>OpenAI Responses: <c>/v1/responses</c>, <c>input</c> and <c>instructions</c>.</summary>
    Responses,

    /// <summary>Anthropic Messages: <c>/v1/messages</c>, <c>system</c>, <c>messages</c>, <c>max_tokens</c>.</summary>
    Anthropic,
}
