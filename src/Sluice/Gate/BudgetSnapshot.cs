namespace Sluice.Gate;

/// <summary>One budget of a partition at one instant.</summary>
/// <param name="Dimension">Which budget.</param>
/// <param name="Limit">Its size per <paramref name="Window"/>: per minute for the per-window budgets, per day for the daily ones.</param>
/// <param name="Window">One minute, or one day.</param>
/// <param name="Available">What could be reserved now; negative after an under-estimate or an oversized request.</param>
/// <param name="Source">Where the limit comes from.</param>
public readonly record struct BudgetSnapshot(BudgetDimension Dimension, double Limit, TimeSpan Window, double Available, BudgetSource Source);
