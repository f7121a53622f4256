using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy;

/// <summary>
/// Who a request is (docs/proxy.md, "Tenants"), step by step:
/// 1. the credential presented (<see cref="ProxyKeys.Presented"/>) is hashed once with SHA-256 and compared in constant
///    time with every configured tenant's <see cref="ProxyTenant.KeySha256"/> and with the proxy key's hash: a match
///    with a tenant's is that tenant, whatever the tenant header says;
/// 2. when tenant keys or a proxy key are configured, a request with neither is refused (401);
/// 3. otherwise the tenant header, when configured and present, names the tenant: a configured one by name (ignoring
///    case), else an ad-hoc one of weight 1 (<see cref="HeaderTenants"/>, at most
///    <see cref="SluiceProxyOptions.MaxHeaderTenants"/>); a name that is not 1–64 printable characters is refused (400);
///    <c>default</c> is the gate's default tenant, as if no name were given;
/// 4. else the request is the partition's default tenant (<see langword="null"/>).
/// Keys are never kept: only their hashes, and no message names a key or a hash.
/// </summary>
internal sealed class ProxyTenants
{
    private readonly (byte[] Hash, TenantAccount Account)[] _keyed;
    private readonly Dictionary<string, TenantAccount> _byName;
    private readonly IReadOnlyList<TenantAccount> _configured;
    private readonly byte[]? _proxyKeyHash;
    private readonly HeaderTenants _adHoc;

    public ProxyTenants(SluiceProxyOptions settings, TimeProvider time)
    {
        _configured = [.. settings.Tenants.Select(t => TenantAccount.Of(t, time))];
        _byName = _configured.ToDictionary(a => a.Name, StringComparer.OrdinalIgnoreCase);
        _keyed = [.. settings.Tenants.Where(t => t.KeySha256 is not null).Select(t => (Convert.FromHexString(t.KeySha256!), _byName[t.Name]))];
        _proxyKeyHash = settings.ProxyKey is { } proxyKey ? Hash(proxyKey) : null;
        Header = settings.TenantHeader;
        _adHoc = new HeaderTenants(SluiceProxyOptions.MaxHeaderTenants, name => new TenantAccount(name, 1, 0, null, null, TenantAccount.HeaderSource, time));
    }

    /// <summary>The header naming a request's tenant; null when tenants are known by key only.</summary>
    public string? Header { get; }

    /// <summary>Whether any configured tenant has a key: then every request must present one (or the proxy key).</summary>
    public bool RequireKeys => _keyed.Length > 0;

    /// <summary>The configured tenants, then the ad-hoc ones held now.</summary>
    public IReadOnlyList<TenantAccount> All => [.. _configured, .. _adHoc.Snapshot()];

    /// <summary>Ad-hoc tenants held now.</summary>
    public int HeaderTenantCount => _adHoc.Count;

    /// <summary>
    /// The request's tenant, already entered (<see cref="TenantAccount.Enter"/>: the caller must <see cref="TenantAccount.Leave"/>),
    /// or null for the default tenant; or a refusal to answer instead.
    /// </summary>
    public TenantIdentity Identify(IHeaderDictionary headers)
    {
        // 1. The key. Every hash is compared, in constant time, whatever matched: how long this takes says nothing of
        // which tenant's key (or how much of one) a guess was close to.
        bool proxyKeyAccepted = false;
        TenantAccount? byKey = null;
        if (_keyed.Length > 0 || _proxyKeyHash is not null)
        {
            if (ProxyKeys.Presented(headers) is { } presented)
            {
                byte[] hash = Hash(presented);
                foreach (var (known, account) in _keyed)
                {
                    if (CryptographicOperations.FixedTimeEquals(hash, known))
                    {
                        byKey = account;
                    }
                }

                proxyKeyAccepted = _proxyKeyHash is not null && CryptographicOperations.FixedTimeEquals(hash, _proxyKeyHash);
            }

            // 2. Neither a tenant's key nor the proxy's: refused, and the key is not repeated.
            if (byKey is null && !proxyKeyAccepted)
            {
                return TenantIdentity.Refused(401, _keyed.Length > 0 ? "tenant_key" : "proxy_key", _keyed.Length > 0
                    ? "sluice proxy: present your tenant key or the proxy's key (Authorization: Bearer, or x-api-key)."
                    : "sluice proxy: present the proxy's key (Authorization: Bearer, or x-api-key).");
            }
        }

        if (byKey is not null)
        {
            byKey.Enter();
            return TenantIdentity.Of(byKey);
        }

        // 3. The header.
        if (Header is null || !headers.TryGetValue(Header, out var values) || values.Count == 0 || string.IsNullOrWhiteSpace(values[0]))
        {
            return TenantIdentity.Default;
        }

        string name = values[0]!.Trim();
        if (values.Count > 1 || !TenantNames.IsValid(name))
        {
            return TenantIdentity.Refused(400, "invalid_tenant", $"sluice proxy: the {Header} header must name one tenant in 1 to {TenantNames.MaxLength} printable characters.");
        }

        // The gate's own default tenant: the same as naming none.
        if (string.Equals(name, RetryAfterEstimate.DefaultTenant, StringComparison.OrdinalIgnoreCase))
        {
            return TenantIdentity.Default;
        }

        if (_byName.TryGetValue(name, out var configured))
        {
            configured.Enter();
            return TenantIdentity.Of(configured);
        }

        TenantAccount? adHoc;
        try
        {
            adHoc = _adHoc.Enter(name);
        }
        catch (ArgumentException)
        {
            // The gate's own check of a tenant's name, should it be stricter than the proxy's.
            return TenantIdentity.Refused(400, "invalid_tenant", $"sluice proxy: the {Header} header does not name a tenant the proxy can track.");
        }

        return adHoc is null
            ? TenantIdentity.Refused(429, "too_many_tenants", $"sluice proxy: {SluiceProxyOptions.MaxHeaderTenants} tenants named by the {Header} header are busy; a new one must wait until one is idle. Retry after the Retry-After header, or use a configured tenant's name.")
            : TenantIdentity.Of(adHoc);
    }

    /// <summary>
    /// Whether a request may read <c>/sluice/status</c> (and the dashboard's data): with the proxy key when one is set,
    /// else with any tenant's key when tenants have keys, else freely.
    /// </summary>
    public bool MayReadStatus(IHeaderDictionary headers)
    {
        if (_proxyKeyHash is null && _keyed.Length == 0)
        {
            return true;
        }

        if (ProxyKeys.Presented(headers) is not { } presented)
        {
            return false;
        }

        byte[] hash = Hash(presented);
        if (_proxyKeyHash is not null)
        {
            return CryptographicOperations.FixedTimeEquals(hash, _proxyKeyHash);
        }

        bool any = false;
        foreach (var (known, _) in _keyed)
        {
            any |= CryptographicOperations.FixedTimeEquals(hash, known);
        }

        return any;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>A request's tenant (null: the default tenant), or the answer that refuses it.</summary>
internal readonly record struct TenantIdentity(TenantAccount? Tenant, int Status, string? Reason, string? Message)
{
    public static readonly TenantIdentity Default = new(null, 0, null, null);

    public bool IsRefused => Reason is not null;

    public static TenantIdentity Of(TenantAccount tenant) => new(tenant, 0, null, null);

    public static TenantIdentity Refused(int status, string reason, string message) => new(null, status, reason, message);
}
