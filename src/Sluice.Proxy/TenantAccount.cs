using System.Diagnostics;
using Sluice.Gate;
using Sluice.Spend;

namespace Sluice.Proxy;

/// <summary>
/// One tenant as the proxy runs it: the <see cref="GateTenant"/> its requests are admitted as, its priority, its daily
/// spend cap (shared by every upstream's engine), and what became of its requests, for the status and the metrics. It
/// holds a name, never a key.
/// </summary>
internal sealed class TenantAccount
{
    /// <summary>Where a tenant came from, as the status says it: a configured tenant with a key.</summary>
    public const string KeySource = "key";

    /// <summary>A tenant named by the tenant header: configured without a key, or ad hoc.</summary>
    public const string HeaderSource = "header";

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _requests;
    private long _answered;
    private long _refused;
    private int _inFlight;
    private DateTime _day;
    private decimal _spentToday;

    public TenantAccount(string name, double weight, int priority, TenantLimits? limits, decimal? maxSpendPerDay, string source, TimeProvider time)
    {
        Name = name;
        Weight = weight;
        Priority = priority;
        Source = source;
        _time = time;
        Gate = new GateTenant(name) { Weight = weight, Limits = limits };
        if (maxSpendPerDay is { } perDay)
        {
            SpendCap = new SpendCap(perDay, SpendWindow.Day, time) { Name = CapName(name) };
        }
    }

    public static TenantAccount Of(ProxyTenant tenant, TimeProvider time) =>
        new(tenant.Name, tenant.Weight, tenant.Priority, tenant.Limits, tenant.MaxSpendPerDay, tenant.KeySha256 is null ? HeaderSource : KeySource, time);

    public string Name { get; }

    public double Weight { get; }

    public int Priority { get; }

    public string Source { get; }

    /// <summary>The tenant as the gate knows it: name, weight and own limits.</summary>
    public GateTenant Gate { get; }

    /// <summary>The tenant's daily cap over every upstream; null when it has none.</summary>
    public SpendCap? SpendCap { get; }

    public long Requests => Interlocked.Read(ref _requests);

    public long Answered => Interlocked.Read(ref _answered);

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Requests of this tenant the proxy holds now (waiting or with an upstream): an ad-hoc tenant with none may be forgotten.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>What the tenant spent today (UTC): its cap's settled total when it has a cap, else its own count.</summary>
    public decimal SpentToday
    {
        get
        {
            if (SpendCap is { } cap)
            {
                return cap.GetSnapshot().Settled;
            }

            lock (_lock)
            {
                return _day == Today() ? _spentToday : 0;
            }
        }
    }

    /// <summary>The engine's name for a tenant's cap: its refusals begin with it.</summary>
    public static string CapName(string tenant) => $"the daily spend cap of tenant '{tenant}'";

    /// <summary>A request of this tenant arrives (counted) and is held until <see cref="Leave"/>.</summary>
    public void Enter()
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Increment(ref _inFlight);
    }

    /// <summary>The request is over, whatever its end.</summary>
    public void Leave()
    {
        int left = Interlocked.Decrement(ref _inFlight);
        Debug.Assert(left >= 0, "every Leave follows an Enter");
    }

    public void CountAnswered() => Interlocked.Increment(ref _answered);

    public void CountRefused() => Interlocked.Increment(ref _refused);

    /// <summary>Adds an answered request's cost to today's total (a cap counts its own: this is for tenants without one).</summary>
    public void CountSpend(decimal cost)
    {
        var today = Today();
        lock (_lock)
        {
            if (_day != today)
            {
                _day = today;
                _spentToday = 0;
            }

            _spentToday += cost;
        }
    }

    private DateTime Today() => _time.GetUtcNow().UtcDateTime.Date;
}
