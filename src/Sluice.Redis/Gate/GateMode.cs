namespace Sluice.Redis.Gate;

/// <summary>Where a Redis gate's admissions go.</summary>
internal enum GateMode
{
    /// <summary>Through Redis, shared with every process on the prefix.</summary>
    Shared,

    /// <summary>To an in-process partition holding 1/N of each budget: Redis cannot be reached.</summary>
    Local,

    /// <summary>Redis answers again and each partition is charging what it admitted alone; nothing is admitted meanwhile.</summary>
    Rejoining,
}
