using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using Sluice.Providers;

namespace Sluice.Spend;

/// <summary>
/// The list prices of models, per provider, in US dollars per million tokens. <see cref="Default"/> is the dated file
/// shipped in the package (<c>prices.json</c>); a user's file in the same format overrides it model by model
/// (<see cref="Load"/>, <see cref="OverriddenBy"/>). A model that is not listed has no price: its cost is unknown, never
/// guessed.
/// </summary>
/// <remarks>
/// Azure OpenAI and OpenAI-compatible servers are priced from the <c>openai</c> list, since they serve OpenAI's models
/// under OpenAI's names (an Azure request whose body names no model has no price). Immutable and thread-safe. In
/// configuration, a string is the path of a prices file laid over the shipped prices (<c>"Sluice:Prices": "prices.json"</c>).
/// </remarks>
[TypeConverter(typeof(PriceTableConverter))]
public sealed class PriceTable
{
    private static readonly Lazy<PriceTable> Embedded = new(LoadEmbedded);

    private readonly Dictionary<string, Dictionary<string, ModelPrice>> _prices;
    private readonly Dictionary<string, string> _sources;

    internal PriceTable(DateOnly asOf, Dictionary<string, Dictionary<string, ModelPrice>> prices, Dictionary<string, string> sources)
    {
        AsOf = asOf;
        _prices = prices;
        _sources = sources;
    }

    /// <summary>The prices shipped in the Sluice package: the providers' list prices on <see cref="AsOf"/>.</summary>
    public static PriceTable Default => Embedded.Value;

    /// <summary>The day the prices were read from the providers' price pages.</summary>
    public DateOnly AsOf { get; }

    /// <summary>Every price listed, by provider (<c>openai</c>, <c>anthropic</c>) and model; for tests and listings.</summary>
    internal IEnumerable<(string Provider, string Model, ModelPrice Price)> Entries =>
        _prices.SelectMany(provider => provider.Value.Select(model => (provider.Key, model.Key, model.Value)));

    /// <summary>Where a provider's prices were read, when the file says.</summary>
    internal string? SourceOf(string provider) => _sources.GetValueOrDefault(provider);

    /// <summary>Reads a user's prices file, in the format of the shipped one (see docs/spend.md).</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its prices.</returns>
    /// <exception cref="PriceTableException">
    /// The file cannot be read, is not JSON, names an unknown provider, or holds a price that is negative or not a
    /// number; the message names the file, the line and the offending value.
    /// </exception>
    public static PriceTable Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new PriceTableException(path, null, $"cannot be read: {exception.Message}", exception);
        }

        return PriceFile.Parse(json, path);
    }

    /// <summary>This table with another's prices in front: a model either lists replaces this one's price whole.</summary>
    /// <param name="overrides">The prices that win, such as a user's file.</param>
    /// <returns>A new table, dated by the later of the two.</returns>
    public PriceTable OverriddenBy(PriceTable overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var prices = _prices.ToDictionary(p => p.Key, p => new Dictionary<string, ModelPrice>(p.Value, StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
        foreach (var (provider, models) in overrides._prices)
        {
            if (!prices.TryGetValue(provider, out var merged))
            {
                prices[provider] = merged = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
            }

            foreach (var (model, price) in models)
            {
                merged[model] = price;
            }
        }

        var sources = new Dictionary<string, string>(_sources, StringComparer.OrdinalIgnoreCase);
        foreach (var (provider, source) in overrides._sources)
        {
            sources[provider] = source;
        }

        return new PriceTable(overrides.AsOf > AsOf ? overrides.AsOf : AsOf, prices, sources);
    }

    /// <summary>
    /// Finds a model's price: the entry named exactly (ignoring case), else the longest listed name that the model
    /// starts with followed by <c>-</c> (a dated snapshot: <c>gpt-4o-mini-2024-07-18</c> is <c>gpt-4o-mini</c>,
    /// <c>claude-sonnet-4-5-20250929</c> is <c>claude-sonnet-4-5</c>). Nothing beyond that is guessed.
    /// </summary>
    /// <param name="provider">The provider; Azure OpenAI and OpenAI-compatible servers use OpenAI's prices.</param>
    /// <param name="model">The request's model.</param>
    /// <param name="price">The price, when found.</param>
    /// <returns>True when the model has a price.</returns>
    public bool TryFind(ProviderKind provider, string? model, [NotNullWhen(true)] out ModelPrice? price)
    {
        price = null;
        if (string.IsNullOrEmpty(model) || !_prices.TryGetValue(SectionOf(provider), out var models))
        {
            return false;
        }

        if (models.TryGetValue(model, out price))
        {
            return true;
        }

        string? best = null;
        foreach (var name in models.Keys)
        {
            if (model.Length > name.Length && model[name.Length] == '-' && model.StartsWith(name, StringComparison.OrdinalIgnoreCase) &&
                (best is null || name.Length > best.Length))
            {
                best = name;
            }
        }

        return best is not null && models.TryGetValue(best, out price);
    }

    /// <summary>The file section a provider's prices are read from.</summary>
    internal static string SectionOf(ProviderKind provider) => provider == ProviderKind.Anthropic ? "anthropic" : "openai";

    private static PriceTable LoadEmbedded()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream("Sluice.Spend.prices.json")
            ?? throw new InvalidOperationException("The Sluice package lacks its prices file (Sluice.Spend.prices.json).");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return PriceFile.Parse(copy.ToArray(), "prices.json (shipped with Sluice)");
    }
}
