using Microsoft.ML.Tokenizers;

namespace Sluice.Providers;

/// <summary>
/// Adds up a prompt's tokens piece by piece: counted with a tokenizer when the model has one, otherwise estimated as one
/// token per four characters of the whole text, rounded up.
/// </summary>
/// <param name="tokenizer">The model's tokenizer, or <see langword="null"/> to estimate from characters.</param>
internal sealed class PromptCounter(Tokenizer? tokenizer)
{
    private long _counted;
    private long _characters;
    private long _fixed;

    /// <summary>
    /// The prompt's tokens so far: the tokenizer's count, but never fewer than one per four characters. Providers'
    /// rate limiters charge a request before any model reads it, by its characters (OpenAI documents about four per
    /// token), so a reservation below that would under-spend their budget and draw 429s.
    /// </summary>
    public long Total => Math.Max(_counted, (_characters + 3) / 4) + _fixed;

    /// <summary>Adds text the model reads.</summary>
    /// <param name="text">The text.</param>
    public void AddText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        _characters += text.Length;
        if (tokenizer is not null)
        {
            _counted += tokenizer.CountTokens(text);
        }
    }

    /// <summary>Adds tokens known without counting: per-message overhead, a media part's flat cost, a pre-tokenised input.</summary>
    /// <param name="tokens">The tokens.</param>
    public void AddTokens(long tokens) => _fixed += tokens;
}
