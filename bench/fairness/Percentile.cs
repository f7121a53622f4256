namespace Sluice.FairBench;

internal static class Percentile
{
    /// <summary>The nearest-rank percentile <paramref name="p"/> (0–100) of <paramref name="values"/>; NaN when there are none.</summary>
    public static double Of(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
