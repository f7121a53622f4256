namespace Sluice.Spend;

/// <summary>
/// One try's worst case held in a <see cref="SpendCap"/> until the try ends: <see cref="Settle"/> replaces it with what
/// the try really cost, <see cref="Release"/> with nothing.
/// </summary>
public sealed class SpendReservation
{
    private readonly SpendCap _cap;
    private int _settled;

    internal SpendReservation(SpendCap cap, decimal amount)
    {
        _cap = cap;
        Amount = amount;
    }

    /// <summary>The worst case reserved, in US dollars.</summary>
    public decimal Amount { get; }

    /// <summary>True once settled or released.</summary>
    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    /// <summary>
    /// Replaces the reserved amount with what the try really cost. Only the first call counts: a try's end may be seen
    /// from more than one place (the answer, its stream's end, the job's end).
    /// </summary>
    /// <param name="actual">The cost, in US dollars.</param>
    /// <exception cref="ArgumentOutOfRangeException">The cost is negative.</exception>
    public void Settle(decimal actual)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actual);
        if (Interlocked.Exchange(ref _settled, 1) == 0)
        {
            _cap.Settle(Amount, actual);
        }
    }

    /// <summary>Gives the reservation back: the try cost nothing (it was refused, or never sent). Same as <c>Settle(0)</c>.</summary>
    public void Release() => Settle(0);
}
