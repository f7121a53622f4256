namespace Sluice.Mock.Faults;

/// <summary>
/// Simulates a prepaid quota: a fixed number of admitted requests, then the provider's quota error. A request
/// reserves its unit before the rate limits and gives it back if they refuse it, so exactly that many
/// requests are served however many arrive at once.
/// </summary>
internal sealed class QuotaCounter(int? requests)
{
    private int _reserved;

    public bool TryReserve()
    {
        if (requests is not int limit)
        {
            return true;
        }

        while (true)
        {
            var current = Volatile.Read(ref _reserved);
            if (current >= limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _reserved, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Unreserve()
    {
        if (requests is not null)
        {
            Interlocked.Decrement(ref _reserved);
        }
    }

    public void Reset() => Interlocked.Exchange(ref _reserved, 0);
}
