using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>One stretch of time on the local share: the in-process gate that holds it and the N it was divided by.</summary>
internal sealed class LocalEpisode(SluiceGate gate, int members, DateTimeOffset began)
{
    public SluiceGate Gate { get; } = gate;

    public int Members { get; } = members;

    public DateTimeOffset Began { get; } = began;
}
