namespace Sluice.Spend;

/// <summary>A <see cref="SpendCap"/> at one moment, in US dollars.</summary>
/// <param name="Limit">The cap.</param>
/// <param name="Settled">What the tries that ended in the window cost.</param>
/// <param name="Reserved">The worst cases held by tries not yet ended.</param>
/// <param name="ResetsAt">When <paramref name="Settled"/> starts again from zero (the next midnight UTC of a daily cap); <see langword="null"/> for a total cap.</param>
public readonly record struct SpendCapSnapshot(decimal Limit, decimal Settled, decimal Reserved, DateTimeOffset? ResetsAt)
{
    /// <summary>What may still be reserved: the limit less what is settled and reserved, never below zero.</summary>
    public decimal Available => Math.Max(0, Limit - Settled - Reserved);
}
