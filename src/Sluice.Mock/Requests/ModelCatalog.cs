using System.Buffers;

namespace Sluice.Mock.Requests;

/// <summary>The model names the mock answers for; anything else gets the provider's unknown-model error.</summary>
internal sealed class ModelCatalog
{
    /// <summary>The default list, documented in docs/mock.md.</summary>
    public static readonly string[] DefaultModels =
    [
        "gpt-5", "gpt-5-mini", "gpt-5-nano",
        "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
        "gpt-4o", "gpt-4o-mini", "gpt-4-turbo", "gpt-4", "gpt-3.5-turbo",
        "o1", "o1-mini", "o3", "o3-mini", "o4-mini",
        "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
        "claude-opus-4-1", "claude-opus-4-0", "claude-sonnet-4-5", "claude-sonnet-4-0", "claude-haiku-4-5",
        "claude-3-7-sonnet-latest", "claude-3-5-sonnet-latest", "claude-3-5-haiku-latest", "claude-3-haiku",
    ];

    private static readonly SearchValues<char> DateCharacters = SearchValues.Create("0123456789-");

    private readonly HashSet<string> _models;
    private readonly bool _acceptAny;

    public ModelCatalog(IEnumerable<string> models, bool acceptAny)
    {
        _models = new HashSet<string>(models, StringComparer.Ordinal);
        _acceptAny = acceptAny;
    }

    public IReadOnlyCollection<string> Models => _models;

    /// <summary>
    /// Whether the mock knows <paramref name="model"/>. A dated snapshot of a known model counts as known:
    /// <c>gpt-4o-2024-08-06</c>, <c>claude-sonnet-4-5-20250929</c>.
    /// </summary>
    public bool IsKnown(string model)
    {
        if (_acceptAny || _models.Contains(model))
        {
            return true;
        }

        var dash = model.IndexOf("-20", StringComparison.Ordinal);
        while (dash > 0)
        {
            var suffix = model.AsSpan(dash + 1);
            if (suffix.Length >= 8 && !suffix.ContainsAnyExcept(DateCharacters) && _models.Contains(model[..dash]))
            {
                return true;
            }

            dash = model.IndexOf("-20", dash + 1, StringComparison.Ordinal);
        }

        return false;
    }

    /// <summary>The length of the vectors an embedding model returns unless the request asks for fewer.</summary>
    public static int EmbeddingDimensions(string model) =>
        model.StartsWith("text-embedding-3-large", StringComparison.Ordinal) ? 3072 : 1536;
}
