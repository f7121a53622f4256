namespace Sluice.Mock;

/// <summary>How often each client-supplied id arrived: duplicates reveal retries, and duplicate successes reveal work done twice.</summary>
public sealed class MockIdCounts
{
    /// <summary>Requests that carried an id.</summary>
    public long Total { get; init; }

    /// <summary>Distinct ids seen.</summary>
    public int Distinct { get; init; }

    /// <summary>Requests beyond the first for their id: <see cref="Total"/> − <see cref="Distinct"/>.</summary>
    public long Duplicates => Total - Distinct;

    /// <summary>Ids answered successfully more than once.</summary>
    public int DuplicateSuccesses { get; init; }

    /// <summary>Requests received per id.</summary>
    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();
}
