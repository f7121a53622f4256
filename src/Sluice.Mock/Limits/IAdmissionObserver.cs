namespace Sluice.Mock.Limits;

/// <summary>
/// Told, under the gate's lock and so in the order they happen, of every admission and budget change. The
/// budget audit implements it to check the gate with arithmetic of its own.
/// </summary>
internal interface IAdmissionObserver
{
    void Admitted(long timestamp, RequestCost cost);

    void Released();

    /// <summary>Part of an admitted request's charge to <paramref name="dimension"/> went back to its bucket.</summary>
    void Refunded(long timestamp, LimitDimension dimension, long amount);

    void LimitsChanged(long timestamp, MockLimits limits);

    /// <summary>The gate refilled every bucket.</summary>
    void BucketsRefilled(long timestamp);
}
