using Sluice.Gate;

namespace Sluice.Http;

/// <summary>
/// Per-request settings a <see cref="SluiceHandler"/> reads from <see cref="HttpRequestMessage.Options"/>:
/// <c>request.Options.Set(SluiceRequestOptions.Tenant, new GateTenant("batch") { Weight = 1 })</c>.
/// </summary>
public static class SluiceRequestOptions
{
    /// <summary>The tenant the request waits at the gate as; without it, the partition's default tenant.</summary>
    public static readonly HttpRequestOptionsKey<GateTenant> Tenant = new("Sluice.Tenant");

    /// <summary>The request's priority at the gate (higher first); without it, 0.</summary>
    public static readonly HttpRequestOptionsKey<int> Priority = new("Sluice.Priority");
}
