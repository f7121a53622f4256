namespace Sluice.Spend;

/// <summary>
/// What one model costs at its provider, in US dollars per million tokens: the list prices of a
/// <see cref="PriceTable"/>.
/// </summary>
public sealed record ModelPrice
{
    private const decimal Million = 1_000_000m;

    /// <summary>Dollars per million input (prompt) tokens.</summary>
    public required decimal InputPerMillion { get; init; }

    /// <summary>
    /// Dollars per million input tokens read from the provider's prompt cache; <see langword="null"/> when the
    /// provider states no cached price, and cached tokens then cost <see cref="InputPerMillion"/>.
    /// </summary>
    public decimal? CachedInputPerMillion { get; init; }

    /// <summary>Dollars per million output tokens (reasoning tokens included: providers bill them as output).</summary>
    public required decimal OutputPerMillion { get; init; }

    /// <summary>
    /// Dollars per million input tokens sent through the provider's Batch API; <see langword="null"/> when the model has
    /// no batch price, and then <see cref="InputPerMillion"/> applies.
    /// </summary>
    public decimal? BatchInputPerMillion { get; init; }

    /// <summary>
    /// Dollars per million output tokens through the provider's Batch API; <see langword="null"/> when the model has no
    /// batch price, and then <see cref="OutputPerMillion"/> applies.
    /// </summary>
    public decimal? BatchOutputPerMillion { get; init; }

    /// <summary>What a request's tokens cost.</summary>
    /// <param name="inputTokens">Every input token, those read from the prompt cache included.</param>
    /// <param name="outputTokens">Output tokens.</param>
    /// <param name="cachedInputTokens">
    /// The part of <paramref name="inputTokens"/> read from the prompt cache, priced at
    /// <see cref="CachedInputPerMillion"/> (at most <paramref name="inputTokens"/>).
    /// </param>
    /// <param name="batch">True for a request sent through the provider's Batch API, priced at the batch prices where there are some.</param>
    /// <returns>The cost in US dollars, unrounded.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or more tokens are cached than were read.</exception>
    public decimal CostOf(long inputTokens, long outputTokens, long cachedInputTokens = 0, bool batch = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedInputTokens);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cachedInputTokens, inputTokens);
        decimal input = batch ? BatchInputPerMillion ?? InputPerMillion : InputPerMillion;
        decimal output = batch ? BatchOutputPerMillion ?? OutputPerMillion : OutputPerMillion;
        decimal cached = CachedInputPerMillion ?? InputPerMillion;

        // Whole tokens times prices of at most a few decimals: exact in decimal, with room for any count a long holds.
        return ((inputTokens - cachedInputTokens) * input + cachedInputTokens * cached + outputTokens * output) / Million;
    }
}
