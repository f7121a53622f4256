using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Sluice.Spend;

/// <summary>
/// A limit on money spent, in US dollars, kept the way the gate keeps a token budget: each try reserves its worst case
/// before it is sent (<see cref="TryReserve"/>) and settles to what it really cost when its answer ends
/// (<see cref="SpendReservation.Settle"/>), so what is settled plus what is reserved never passes the limit.
/// </summary>
/// <remarks>
/// Thread-safe; one lock, held only for arithmetic. A daily cap (<see cref="SpendWindow.Day"/>) starts its settled
/// spend again from zero at midnight UTC by its <see cref="TimeProvider"/>; reservations made before midnight stay
/// reserved and settle into the new day. A try that costs more than it reserved (a request that stated no output
/// limit, whose answer ran past the one assumed) is settled in full, since the money is spent: the cap is then passed
/// by that excess, and refuses every reservation until the window starts again.
/// </remarks>
public sealed class SpendCap
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private decimal _settled;
    private decimal _reserved;
    private decimal _overrun;
    private DateOnly _day;

    /// <summary>Makes a cap.</summary>
    /// <param name="limit">The most that may be settled plus reserved, in US dollars; zero refuses every paid try.</param>
    /// <param name="window">Over what time spend is counted.</param>
    /// <param name="timeProvider">The clock a daily cap reads; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The limit is negative or the window unknown.</exception>
    public SpendCap(decimal limit, SpendWindow window = SpendWindow.Total, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (!Enum.IsDefined(window))
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "Not a known spend window.");
        }

        Limit = limit;
        Window = window;
        _time = timeProvider ?? TimeProvider.System;
        _day = Today();
    }

    /// <summary>The most that may be settled plus reserved, in US dollars.</summary>
    public decimal Limit { get; }

    /// <summary>Over what time spend is counted.</summary>
    public SpendWindow Window { get; }

    /// <summary>
    /// What the cap is called in errors and logs (<c>--max-spend</c>, <c>upstream openai, per day</c>); the engine
    /// names the caps it makes itself.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the cap is described by its limit and window alone.</value>
    public string? Name { get; init; }

    /// <summary>Reserves a try's worst case, unless that would take settled plus reserved past the limit.</summary>
    /// <param name="amount">The worst case, in US dollars.</param>
    /// <param name="reservation">The reservation, to settle or release once the try ends.</param>
    /// <returns>False when settled + reserved + <paramref name="amount"/> would pass the limit; nothing is reserved then.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The amount is negative.</exception>
    public bool TryReserve(decimal amount, [NotNullWhen(true)] out SpendReservation? reservation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        lock (_lock)
        {
            Roll();
            if (_settled + _reserved + amount > Limit)
            {
                reservation = null;
                return false;
            }

            _reserved += amount;
            AssertWithinLimit();
        }

        reservation = new SpendReservation(this, amount);
        return true;
    }

    /// <summary>The cap now.</summary>
    /// <returns>Limit, settled, reserved and when a daily window starts again.</returns>
    public SpendCapSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            Roll();
            return new SpendCapSnapshot(Limit, _settled, _reserved, Window == SpendWindow.Day ? NextMidnight(_day) : null);
        }
    }

    /// <summary>A sentence for people: the cap's name or shape, and its state now.</summary>
    /// <returns>Such as <c>cap --max-spend ($5.00): $4.9800 spent, $0.0100 reserved</c>.</returns>
    public override string ToString()
    {
        var snapshot = GetSnapshot();
        string name = Name ?? (Window == SpendWindow.Day ? "daily spend cap" : "spend cap");
        return FormattableString.Invariant($"{name} (${Limit:0.00####}{(Window == SpendWindow.Day ? " a day" : string.Empty)}): ${snapshot.Settled:0.00####} spent, ${snapshot.Reserved:0.00####} reserved");
    }

    /// <summary>Replaces a reservation's amount with what the try really cost; called once per reservation.</summary>
    internal void Settle(decimal reserved, decimal actual)
    {
        lock (_lock)
        {
            Roll();
            _reserved -= reserved;
            _settled += actual;
            if (actual > reserved)
            {
                _overrun += actual - reserved;
            }

            AssertWithinLimit();
        }
    }

    private static DateTimeOffset NextMidnight(DateOnly day) => new(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private DateOnly Today() => DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);

    // Lazily, from the clock: no timer runs for a cap nobody uses.
    private void Roll()
    {
        if (Window != SpendWindow.Day)
        {
            return;
        }

        var today = Today();
        if (today > _day)
        {
            _day = today;
            _settled = 0;
            _overrun = 0;
        }
    }

    [Conditional("DEBUG")]
    private void AssertWithinLimit()
    {
        Debug.Assert(_reserved >= 0, "reserved below zero: a reservation settled twice");
        Debug.Assert(_settled + _reserved <= Limit + _overrun, "settled + reserved passed the limit by more than tries that cost more than they reserved");
    }
}
