using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Proxy.Tests;

/// <summary>Who a request is: a tenant by its key's hash, by the tenant header, or the default tenant; and who may read the status.</summary>
public sealed class ProxyTenantsTests
{
    private const string AppKey = "sk-sluice-app-0123456789abcdef";
    private const string BatchKey = "sk-sluice-batch-fedcba9876543210";
    private const string ProxyKey = "proxy-key-for-admins";

    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));

    private static SluiceProxyOptions Options(string? proxyKey = null, string? header = null, bool keys = true)
    {
        var options = new SluiceProxyOptions { ProxyKey = proxyKey, TenantHeader = header };
        options.Upstreams.Add(new ProxyUpstream { Name = "up", Url = new Uri("http://127.0.0.1:9/"), ApiKey = "sk-upstream", IsDefault = true });
        options.Tenants.Add(new ProxyTenant { Name = "app", KeySha256 = keys ? ProxyTenant.HashKey(AppKey) : null, Weight = 3, Priority = 1 });
        options.Tenants.Add(new ProxyTenant { Name = "batch", KeySha256 = keys ? ProxyTenant.HashKey(BatchKey) : null, Limits = new TenantLimits { RequestsPerMinute = 10 } });
        options.Tenants.Add(new ProxyTenant { Name = "ops" });
        return options;
    }

    private static HeaderDictionary Headers(string? bearer = null, string? header = null, string? tenant = null)
    {
        var headers = new HeaderDictionary();
        if (bearer is not null)
        {
            headers["Authorization"] = $"Bearer {bearer}";
        }

        if (header is not null)
        {
            headers[header] = tenant;
        }

        return headers;
    }

    [Fact]
    public void HashKey_IsTheLowerCaseHexSha256OfTheKeysUtf8()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ProxyTenant.HashKey("abc"));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ProxyTenant.HashKey(""));
    }

    [Fact]
    public void Identify_ByKey_IsThatTenant_WithItsWeightPriorityAndLimits_WhateverTheHeaderSays()
    {
        var tenants = new ProxyTenants(Options(header: "x-sluice-tenant"), Time);

        var app = tenants.Identify(Headers(AppKey, "x-sluice-tenant", "batch"));
        var batch = tenants.Identify(new HeaderDictionary { ["x-api-key"] = BatchKey });

        Assert.Equal("app", app.Tenant!.Name);
        Assert.Equal((3.0, 1, "key"), (app.Tenant.Gate.Weight, app.Tenant.Priority, app.Tenant.Source));
        Assert.Equal("batch", batch.Tenant!.Name);
        Assert.Equal(10, batch.Tenant.Gate.Limits!.RequestsPerMinute);
        Assert.Equal((1, 1), (app.Tenant.Requests, app.Tenant.InFlight));
        app.Tenant.Leave();
        Assert.Equal(0, app.Tenant.InFlight);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-sluice-not-a-tenant-key")]
    [InlineData(AppKey + "x")]
    public void Identify_UnknownOrMissingKey_WhenTenantsHaveKeys_Is401_WithoutTheKey(string? presented)
    {
        var tenants = new ProxyTenants(Options(header: "x-sluice-tenant"), Time);

        var identity = tenants.Identify(Headers(presented, "x-sluice-tenant", "ops"));

        Assert.True(identity.IsRefused);
        Assert.Equal((401, "tenant_key"), (identity.Status, identity.Reason));
        Assert.DoesNotContain("sk-sluice", identity.Message!, StringComparison.Ordinal);
        Assert.All(tenants.All, t => Assert.Equal(0, t.Requests));
    }

    [Fact]
    public void Identify_ProxyKey_IsAccepted_AndTheHeaderNamesTheTenant()
    {
        var tenants = new ProxyTenants(Options(proxyKey: ProxyKey, header: "x-sluice-tenant"), Time);

        Assert.Null(tenants.Identify(Headers(ProxyKey)).Tenant);
        Assert.False(tenants.Identify(Headers(ProxyKey)).IsRefused);
        Assert.Equal("ops", tenants.Identify(Headers(ProxyKey, "x-sluice-tenant", "OPS")).Tenant!.Name);
        Assert.Equal("app", tenants.Identify(Headers(AppKey)).Tenant!.Name);
        Assert.Equal("proxy_key", new ProxyTenants(Options(proxyKey: ProxyKey, keys: false), Time).Identify(Headers("wrong")).Reason);
    }

    [Fact]
    public void Identify_ByHeader_ConfiguredByName_ElseAdHocOfWeightOne_ElseDefault()
    {
        var tenants = new ProxyTenants(Options(header: "x-sluice-tenant", keys: false), Time);

        var configured = tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "App")).Tenant!;
        var adHoc = tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "notebook-7")).Tenant!;

        Assert.Equal(("app", 3.0, "header"), (configured.Name, configured.Weight, configured.Source));
        Assert.Equal(("notebook-7", 1.0, 0, "header"), (adHoc.Name, adHoc.Gate.Weight, adHoc.Priority, adHoc.Source));
        Assert.Null(tenants.Identify(Headers()).Tenant);
        Assert.Null(tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "  ")).Tenant);
        Assert.Null(tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "default")).Tenant);
        Assert.Equal(["app", "batch", "ops", "notebook-7"], tenants.All.Select(t => t.Name));
    }

    [Theory]
    [InlineData("tab\there")]
    [InlineData("bell\u0007")]
    [InlineData("\ud800lone")]
    public void Identify_HeaderNamingNoUsableTenant_Is400(string name)
    {
        var tenants = new ProxyTenants(Options(header: "x-sluice-tenant", keys: false), Time);

        var identity = tenants.Identify(Headers(header: "x-sluice-tenant", tenant: name));

        Assert.Equal((400, "invalid_tenant"), (identity.Status, identity.Reason));
        Assert.Equal(0, tenants.HeaderTenantCount);
    }

    [Fact]
    public void Identify_HeaderNameTooLong_OrTwoValues_Is400()
    {
        var tenants = new ProxyTenants(Options(header: "x-sluice-tenant", keys: false), Time);
        var twice = new HeaderDictionary { ["x-sluice-tenant"] = new Microsoft.Extensions.Primitives.StringValues(["a", "b"]) };

        Assert.Equal(400, tenants.Identify(Headers(header: "x-sluice-tenant", tenant: new string('t', 65))).Status);
        Assert.Equal("t64", tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "t64" + new string('t', 61))).Tenant!.Name[..3]);
        Assert.Equal(400, tenants.Identify(twice).Status);
    }

    [Fact]
    public void Identify_AdHocTenants_AreBounded_IdleOnesForgotten_AllBusyIs429()
    {
        var tenants = new ProxyTenants(Options(header: "x-sluice-tenant", keys: false), Time);
        var held = Enumerable.Range(0, SluiceProxyOptions.MaxHeaderTenants)
            .Select(i => tenants.Identify(Headers(header: "x-sluice-tenant", tenant: $"t{i}")).Tenant!)
            .ToList();

        var full = tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "one-more"));
        var again = tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "t5")).Tenant!;
        held[7].Leave();
        var room = tenants.Identify(Headers(header: "x-sluice-tenant", tenant: "one-more")).Tenant!;

        Assert.Equal((429, "too_many_tenants"), (full.Status, full.Reason));
        Assert.Same(held[5], again);
        Assert.Equal(2, again.Requests);
        Assert.Equal("one-more", room.Name);
        Assert.Equal(SluiceProxyOptions.MaxHeaderTenants, tenants.HeaderTenantCount);
        Assert.DoesNotContain(tenants.All, t => t.Name == "t7");
    }

    [Fact]
    public void MayReadStatus_ProxyKeyWhenSet_ElseAnyTenantKey_ElseFreely()
    {
        var withProxyKey = new ProxyTenants(Options(proxyKey: ProxyKey), Time);
        var tenantKeysOnly = new ProxyTenants(Options(), Time);
        var open = new ProxyTenants(Options(keys: false), Time);

        Assert.True(withProxyKey.MayReadStatus(Headers(ProxyKey)));
        Assert.False(withProxyKey.MayReadStatus(Headers(AppKey)));
        Assert.False(withProxyKey.MayReadStatus(Headers()));
        Assert.True(tenantKeysOnly.MayReadStatus(Headers(BatchKey)));
        Assert.False(tenantKeysOnly.MayReadStatus(Headers("sk-unknown")));
        Assert.False(tenantKeysOnly.MayReadStatus(Headers()));
        Assert.True(open.MayReadStatus(Headers()));
    }

    [Fact]
    public void TenantAccount_SpentToday_CountsUntilUtcMidnight_OrIsTheCapsSettledTotal()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 23, 0, 0, TimeSpan.Zero));
        var plain = new TenantAccount("a", 1, 0, null, null, TenantAccount.HeaderSource, time);
        var capped = new TenantAccount("b", 1, 0, null, 5m, TenantAccount.KeySource, time);

        plain.CountSpend(0.25m);
        plain.CountSpend(0.5m);
        Assert.True(capped.SpendCap!.TryReserve(1m, out var reservation));
        reservation.Settle(0.4m);
        Assert.Equal((0.75m, 0.4m), (plain.SpentToday, capped.SpentToday));
        Assert.StartsWith(TenantAccount.CapName("b"), capped.SpendCap.Name!, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal((0m, 0m), (plain.SpentToday, capped.SpentToday));
    }
}
