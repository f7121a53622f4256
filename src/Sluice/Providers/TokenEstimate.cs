namespace Sluice.Providers;

/// <summary>The tokens a request is expected to use, reserved at the gate before it is sent and settled from its usage after.</summary>
/// <param name="Prompt">Tokens in the prompt: messages, instructions, tools, inputs, plus a small overhead per message.</param>
/// <param name="OutputCap">The most tokens the answer may use: the request's output limit times its choices; zero for embeddings.</param>
internal readonly record struct TokenEstimate(long Prompt, long OutputCap)
{
    /// <summary>What to reserve: prompt and output cap together, as providers count a request against a token budget.</summary>
    public long Total => Prompt + OutputCap;
}
