namespace Sluice.Mock.Limits;

/// <summary>One budget as the rate-limit headers report it.</summary>
/// <param name="Limit">The per-minute budget.</param>
/// <param name="Remaining">Whole units that could be taken now.</param>
/// <param name="ResetIn">Time until the bucket is full again.</param>
internal readonly record struct DimensionState(long Limit, long Remaining, TimeSpan ResetIn);

/// <summary>The state of every configured budget at one instant, read under the gate's lock so the headers agree with the decision.</summary>
internal sealed class RateLimitSnapshot
{
    private readonly DimensionState?[] _states;

    public RateLimitSnapshot(DimensionState?[] states, DateTimeOffset now)
    {
        _states = states;
        Now = now;
    }

    /// <summary>Wall-clock time of the snapshot, for headers that carry absolute reset times.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>The state of one budget, or null when it is unlimited.</summary>
    public DimensionState? this[LimitDimension dimension] => _states[(int)dimension];
}
