using System.Text.Json.Serialization;
using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// One tenant in the status's top-level <c>tenants</c>: who it is (never its key), where it came from (<c>key</c>: a
/// configured tenant recognised by its key, or <c>header</c>: named by the tenant header), and what became of its
/// requests since the start: answered (the upstream's or the cache's answer relayed) and refused (the proxy answered
/// itself: 401 aside, a 429, 402, 503 or 502), with what it spent today (UTC).
/// </summary>
internal sealed record TenantStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("answered")] long Answered,
    [property: JsonPropertyName("refused")] long Refused,
    [property: JsonPropertyName("spent_today")] decimal SpentToday)
{
    internal static TenantStatus Of(TenantAccount account) => new(
        account.Name,
        account.Weight,
        account.Priority,
        account.Source,
        account.Requests,
        account.Answered,
        account.Refused,
        account.SpentToday);
}

/// <summary>
/// One tenant in a partition's <c>tenants</c>: the gate's view (<see cref="TenantSnapshot"/>) — in flight, waiting,
/// admitted since first seen, the share of the partition's budget it received over the last seconds, and the share
/// due to it now (null when it has nothing waiting).
/// </summary>
internal sealed record PartitionTenantStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("in_flight")] int InFlight,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("admitted")] long Admitted,
    [property: JsonPropertyName("share_received")] double ShareReceived,
    [property: JsonPropertyName("share_due")] double? ShareDue)
{
    internal static PartitionTenantStatus Of(TenantSnapshot tenant) => new(
        tenant.Name,
        tenant.Weight,
        tenant.InFlight,
        tenant.Waiting,
        tenant.Admitted,
        Math.Round(tenant.ShareReceived, 4),
        tenant.ShareDue is { } due ? Math.Round(due, 4) : null);
}
