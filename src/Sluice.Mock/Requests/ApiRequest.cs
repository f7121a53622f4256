using Sluice.Mock.Limits;

namespace Sluice.Mock.Requests;

/// <summary>A validated API request: what the budgets charge and what the answer is made from.</summary>
internal sealed class ApiRequest
{
    public required Provider Provider { get; init; }

    public required string Model { get; init; }

    /// <summary>The prompt estimate (see <see cref="TokenEstimator"/>).</summary>
    public required long PromptTokens { get; init; }

    /// <summary>The output cap per choice; 0 for embeddings.</summary>
    public required long MaxOutputTokens { get; init; }

    public int Choices { get; init; } = 1;

    public bool Stream { get; init; }

    /// <summary>OpenAI <c>stream_options.include_usage</c>: end the stream with a usage chunk.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>The text the reply quotes: the last user message.</summary>
    public string ReplySeed { get; init; } = "";

    /// <summary>
    /// Structured output asked for (a JSON schema, or OpenAI's <c>json_object</c>): the JSON the answer carries
    /// instead of the reply text (see <see cref="Content.SchemaAnswer"/>). The token counts stay the reply's.
    /// </summary>
    public string? StructuredAnswer { get; init; }

    /// <summary>Anthropic only: the tool that <c>tool_choice</c> forces; the answer is its <c>tool_use</c> block.</summary>
    public string? ToolName { get; init; }

    /// <summary>The body's <c>metadata.custom_id</c>, when there is one.</summary>
    public string? CustomId { get; init; }

    /// <summary>Embeddings only: each input as text (token arrays as their numbers), with its token count.</summary>
    public IReadOnlyList<(string Text, long Tokens)> EmbeddingInputs { get; init; } = [];

    /// <summary>Embeddings only: the vector length asked for.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Embeddings only: <c>encoding_format: "base64"</c>.</summary>
    public bool Base64 { get; init; }

    /// <summary>Prompt estimate plus every choice's output cap; Anthropic requests also draw on the separate input and output budgets.</summary>
    public RequestCost Cost => new(PromptTokens, Choices * MaxOutputTokens, Provider == Provider.Anthropic);
}
