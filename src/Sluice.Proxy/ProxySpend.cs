using System.Globalization;
using Sluice.Spend;

namespace Sluice.Proxy;

/// <summary>
/// One upstream's spend caps: its own per UTC day (<see cref="ProxyUpstream.MaxSpendPerDay"/>) and one per client
/// fingerprint (<see cref="ProxyUpstream.MaxSpendPerClientPerDay"/>) in a table bounded by
/// <see cref="SluiceProxyOptions.MaxPartitions"/>, the least recently seen client dropped first. The engine reserves and
/// settles in them (<c>SluiceSendOptions.SpendCaps</c>); this class names them, counts what was spent and refused, and
/// words the 402 a refused request gets. Nothing here holds or shows a key: clients are fingerprints, and no message
/// names even those.
/// </summary>
internal sealed class ProxySpend
{
    private readonly ProxyUpstream _upstream;
    private readonly BoundedTable<SpendCap>? _clients;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private decimal _spent;
    private long _refused;

    public ProxySpend(ProxyUpstream upstream, int maxClients, TimeProvider time)
    {
        _upstream = upstream;
        _time = time;
        if (upstream.MaxSpendPerDay is { } perDay)
        {
            UpstreamCap = new SpendCap(perDay, SpendWindow.Day, time) { Name = UpstreamCapName(upstream.Name) };
        }

        if (upstream.MaxSpendPerClientPerDay is { } perClient)
        {
            _clients = new BoundedTable<SpendCap>(maxClients, _ => new SpendCap(perClient, SpendWindow.Day, time) { Name = ClientCapName(upstream.Name) });
        }
    }

    /// <summary>The upstream's own daily cap; null when it has none.</summary>
    public SpendCap? UpstreamCap { get; }

    /// <summary>Whether any cap applies to this upstream's requests.</summary>
    public bool IsCapped => UpstreamCap is not null || _clients is not null;

    /// <summary>Clients whose spend is tracked now (at most <see cref="SluiceProxyOptions.MaxPartitions"/>).</summary>
    public int ClientsTracked => _clients?.Count ?? 0;

    /// <summary>What every request of this upstream cost since the proxy started, in USD (priced ones only).</summary>
    public decimal Spent
    {
        get
        {
            lock (_lock)
            {
                return _spent;
            }
        }
    }

    /// <summary>Requests refused by a cap since the start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>What every cap of this upstream holds reserved now: the upstream's, else the clients' together.</summary>
    public decimal Reserved => UpstreamCap?.GetSnapshot().Reserved ?? _clients?.Snapshot().Sum(c => c.Value.GetSnapshot().Reserved) ?? 0;

    /// <summary>The caps a request from <paramref name="client"/> (a fingerprint) reserves in; null when none.</summary>
    public IReadOnlyList<SpendCap>? CapsFor(string client)
    {
        if (!IsCapped)
        {
            return null;
        }

        var own = _clients?.Get(client);
        if (UpstreamCap is null)
        {
            return own is null ? null : [own];
        }

        return own is null ? [UpstreamCap] : [UpstreamCap, own];
    }

    /// <summary>Adds a request's cost to the running total.</summary>
    public void Count(decimal cost)
    {
        lock (_lock)
        {
            _spent += cost;
        }
    }

    /// <summary>
    /// Words the 402 for a request the engine refused, and says which cap refused it: <c>upstream</c>, <c>client</c>,
    /// or <c>unpriced</c> (its model has no price, so no cap can hold it).
    /// </summary>
    /// <param name="caps">The caps the request was sent with, the upstream's first.</param>
    /// <param name="engineError">The engine's reason, which begins with the refusing cap's name.</param>
    /// <param name="model">The request's model.</param>
    /// <param name="worstCase">The request's worst case, null when its model has no price.</param>
    /// <param name="pricesAsOf">The price table's date, for the unpriced case.</param>
    /// <param name="tenantCap">The request's tenant's cap, when it has one (among <paramref name="caps"/>): then the cap may be <c>tenant</c>.</param>
    public (string Cap, string Message) Refusal(IReadOnlyList<SpendCap> caps, string? engineError, string? model, decimal? worstCase, DateOnly pricesAsOf, SpendCap? tenantCap = null)
    {
        Interlocked.Increment(ref _refused);
        if (worstCase is null)
        {
            // The upstream's cap, or else the tenant's (a client's cap alone is the upstream's setting too).
            string capped = IsCapped || tenantCap is null ? $"upstream '{_upstream.Name}' has a spend cap" : "your tenant has a spend cap";
            return ("unpriced", model is null
                ? $"sluice proxy: {capped}, and this request names no model, so its cost cannot be kept under the cap."
                : $"sluice proxy: {capped}, and model '{ProxyErrors.Quote(model)}' has no price in the price table (as of {pricesAsOf:yyyy-MM-dd}), so its cost cannot be kept under the cap; add its price with a prices file (--prices FILE).");
        }

        // The engine's reason names the cap that refused; if it names none, the first cap that has no room for the
        // request's worst case now, else the upstream's.
        var cap = caps.FirstOrDefault(c => c.Name is { } name && engineError is not null && engineError.StartsWith(name, StringComparison.Ordinal))
            ?? caps.FirstOrDefault(c => c.GetSnapshot().Available < worstCase)
            ?? caps[0];
        var snapshot = cap.GetSnapshot();
        var resetsAt = snapshot.ResetsAt ?? NextMidnight();
        bool isUpstream = ReferenceEquals(cap, UpstreamCap);
        bool isTenant = tenantCap is not null && ReferenceEquals(cap, tenantCap);
        string which = isUpstream
            ? $"the daily spend cap of upstream '{_upstream.Name}' ({Usd(cap.Limit)} per UTC day)"
            : isTenant
            ? $"your tenant's daily spend cap ({Usd(cap.Limit)} per UTC day, over every upstream)"
            : $"your daily spend cap at upstream '{_upstream.Name}' ({Usd(cap.Limit)} per client per UTC day)";
        return (isUpstream ? "upstream" : isTenant ? "tenant" : "client", string.Create(
            CultureInfo.InvariantCulture,
            $"sluice proxy: {which} is reached: {Usd(snapshot.Settled)} spent and {Usd(snapshot.Reserved)} reserved today, and this request may cost up to {Usd(worstCase.Value)}. It resets at {resetsAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} (UTC midnight)."));
    }

    /// <summary>The engine's name for the upstream's cap; its refusals begin with it.</summary>
    internal static string UpstreamCapName(string upstream) => $"the daily spend cap of upstream '{upstream}'";

    /// <summary>The engine's name for a client's cap (the fingerprint is not in it: errors and logs never show one).</summary>
    internal static string ClientCapName(string upstream) => $"a client's daily spend cap at upstream '{upstream}'";

    /// <summary>Dollars as a message shows them: cents, or up to six decimals where a small amount needs them.</summary>
    internal static string Usd(decimal amount) =>
        "$" + amount.ToString(amount == decimal.Round(amount, 2) ? "0.00" : "0.00####", CultureInfo.InvariantCulture);

    private DateTimeOffset NextMidnight() => new(_time.GetUtcNow().UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
}
