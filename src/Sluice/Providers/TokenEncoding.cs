using Microsoft.ML.Tokenizers;

namespace Sluice.Providers;

/// <summary>How a model's prompt is counted: with one of OpenAI's tokenizers, or approximately.</summary>
internal enum TokenEncoding
{
    /// <summary>One token per four characters, rounded up: unknown models and Anthropic's (whose tokenizer is not public).</summary>
    Approximate = 0,

    /// <summary><c>cl100k_base</c>: GPT-4, GPT-3.5 and the <c>text-embedding-*</c> models.</summary>
    Cl100kBase,

    /// <summary><c>o200k_base</c>: GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o1, o3, o4 and gpt-oss.</summary>
    O200kBase,
}

/// <summary>Chooses the <see cref="TokenEncoding"/> of a model by its family, and builds the tokenizers once, lazily.</summary>
internal static class TokenEncodings
{
    // Checked in order: "gpt-4o" and "gpt-4.1" must be seen before the plain "gpt-4" of cl100k.
    private static readonly string[] O200kFamilies = ["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss"];
    private static readonly string[] Cl100kFamilies = ["gpt-4", "gpt-3.5", "gpt-35", "text-embedding-", "davinci-002", "babbage-002"];

    // Loading a vocabulary takes a noticeable moment and megabytes, so each is built on first use and then shared.
    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The encoding of a model. Names are compared without case, after dropping a router's vendor prefix
    /// (<c>openai/gpt-4o</c>) and a fine-tune's wrapping (<c>ft:gpt-4o-mini:org::id</c>).
    /// </summary>
    /// <param name="model">The model or Azure deployment name; <see langword="null"/> when unknown.</param>
    /// <returns>The encoding; <see cref="TokenEncoding.Approximate"/> for anything unrecognised.</returns>
    public static TokenEncoding ForModel(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return TokenEncoding.Approximate;
        }

        var name = model.AsSpan().Trim();
        if (name.StartsWith("ft:", StringComparison.OrdinalIgnoreCase))
        {
            name = name[3..];
            var colon = name.IndexOf(':');
            name = colon < 0 ? name : name[..colon];
        }

        var slash = name.LastIndexOf('/');
        name = name[(slash + 1)..];
        return StartsWithAny(name, O200kFamilies) ? TokenEncoding.O200kBase
            : StartsWithAny(name, Cl100kFamilies) ? TokenEncoding.Cl100kBase
            : TokenEncoding.Approximate;
    }

    /// <summary>The shared tokenizer of an encoding, or <see langword="null"/> for <see cref="TokenEncoding.Approximate"/>.</summary>
    /// <param name="encoding">The encoding.</param>
    /// <returns>The tokenizer; safe to use from many threads.</returns>
    public static Tokenizer? Tokenizer(TokenEncoding encoding) => encoding switch
    {
        TokenEncoding.O200kBase => O200k.Value,
        TokenEncoding.Cl100kBase => Cl100k.Value,
        _ => null,
    };

    /// <summary>
    /// The shared tokenizer of an encoding if it has finished loading, without waiting for it; <see langword="null"/>
    /// while it loads (or for <see cref="TokenEncoding.Approximate"/>). A caller that cannot afford the wait counts
    /// approximately meanwhile.
    /// </summary>
    /// <param name="encoding">The encoding.</param>
    /// <returns>The tokenizer, or <see langword="null"/>.</returns>
    public static Tokenizer? LoadedTokenizer(TokenEncoding encoding) => encoding switch
    {
        TokenEncoding.O200kBase when O200k.IsValueCreated => O200k.Value,
        TokenEncoding.Cl100kBase when Cl100k.IsValueCreated => Cl100k.Value,
        _ => null,
    };

    private static bool StartsWithAny(ReadOnlySpan<char> name, string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
