namespace Sluice.Spend;

/// <summary>Over what time a <see cref="SpendCap"/> counts what was spent.</summary>
public enum SpendWindow
{
    /// <summary>Everything since the cap was made: a run's budget.</summary>
    Total = 0,

    /// <summary>The UTC calendar day, read from the cap's <see cref="TimeProvider"/>: what was settled starts again from zero at midnight UTC.</summary>
    Day,
}
