using System.Security.Cryptography;
using System.Text;
using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// One tenant of a proxy shared by a team: a name, how it is recognised (its key, known to the proxy only by the key's
/// SHA-256, or <see cref="SluiceProxyOptions.TenantHeader"/>), its weight in the fair share of every partition's budget,
/// its priority, and its own limits and daily spend cap on top of the upstream's. docs/proxy.md ("Tenants").
/// </summary>
public sealed class ProxyTenant
{
    /// <summary>The tenant's name in status, metrics and logs: 1 to 64 printable characters. Names are compared ignoring case.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The lower-case hex SHA-256 of the tenant's key (<see cref="HashKey"/>, or <c>sluice proxy hash-key</c>): a client
    /// presenting that key (Bearer, <c>x-api-key</c> or <c>api-key</c>) is this tenant. The key itself is never held.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the tenant is known by <see cref="SluiceProxyOptions.TenantHeader"/> only.</value>
    public string? KeySha256 { get; init; }

    /// <summary>The tenant's weight: two busy tenants of weights 3 and 1 get 75% and 25% of a partition's budget.</summary>
    /// <value>Defaults to 1; more than 0 and at most 1,000.</value>
    public double Weight { get; init; } = 1;

    /// <summary>
    /// The priority of the tenant's requests: higher goes first, across tenants too; a waiting request's priority rises
    /// with its wait (<c>GateOptions.PriorityAging</c>) so lower ones are never starved.
    /// </summary>
    /// <value>Defaults to 0; from -100 to 100.</value>
    public int Priority { get; init; }

    /// <summary>The tenant's own limits (concurrency, requests and tokens per minute), applied on top of each partition's.</summary>
    /// <value>Defaults to <see langword="null"/>: only the partition's limits.</value>
    public TenantLimits? Limits { get; init; }

    /// <summary>
    /// The most the tenant may spend per UTC day in USD over every upstream; over it the tenant's requests get 402
    /// <c>spend_cap_reached</c> while the other tenants go on.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no cap of its own.</value>
    public decimal? MaxSpendPerDay { get; init; }

    /// <summary>The lower-case hex SHA-256 of a key's UTF-8 bytes, as <see cref="KeySha256"/> holds it.</summary>
    /// <param name="key">The key, as clients present it.</param>
    /// <returns>64 lower-case hex digits.</returns>
    public static string HashKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The name, weight and priority; never the key's hash.</summary>
    /// <returns>A description for logs.</returns>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name} (weight {Weight}, priority {Priority}, {(KeySha256 is null ? "header" : "key")})");
}
