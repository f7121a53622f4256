using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sluice.Proxy.Tests;

/// <summary>The validator's rules for tenants: each mistake named, with the tenant, and never a key.</summary>
public sealed class ProxyTenantOptionsTests
{
    private static readonly string AppHash = ProxyTenant.HashKey("sk-app");

    private static SluiceProxyOptions Options(string? upstreamKey = "sk-upstream", params ProxyTenant[] tenants)
    {
        var options = new SluiceProxyOptions();
        options.Upstreams.Add(new ProxyUpstream { Name = "up", Url = new Uri("http://127.0.0.1:9/"), ApiKey = upstreamKey, IsDefault = true });
        foreach (var tenant in tenants)
        {
            options.Tenants.Add(tenant);
        }

        return options;
    }

    private static IReadOnlyList<string> Problems(SluiceProxyOptions options) =>
        [.. new SluiceProxyOptionsValidator().Validate(null, options).Failures ?? []];

    [Fact]
    public void Valid_TwoKeyedTenantsAndAHeaderOnlyOne()
    {
        var options = Options(
            "sk-upstream",
            new ProxyTenant { Name = "app", KeySha256 = AppHash, Weight = 3, Priority = 1 },
            new ProxyTenant { Name = "batch", KeySha256 = ProxyTenant.HashKey("sk-batch").ToUpperInvariant(), Weight = 0.5, Priority = -1, MaxSpendPerDay = 2m },
            new ProxyTenant { Name = "ops" });
        options.TenantHeader = "x-sluice-tenant";

        Assert.Empty(Problems(options));
    }

    [Fact]
    public void KeyedTenants_NeedTheProxyToHoldEveryUpstreamsKey()
    {
        var problem = Assert.Single(Problems(Options(null, new ProxyTenant { Name = "app", KeySha256 = AppHash })));

        Assert.Contains("upstream 'up' has none", problem, StringComparison.Ordinal);
        Assert.Contains("never forwarded", problem, StringComparison.Ordinal);
        Assert.Empty(Problems(Options(null, new ProxyTenant { Name = "header-only" })));
    }

    [Theory]
    [InlineData("", "Name must be 1 to 64")]
    [InlineData(" padded", "Name must be 1 to 64")]
    [InlineData("bell\u0007", "Name must be 1 to 64")]
    public void BadName_IsNamed(string name, string expected) =>
        Assert.Contains(Problems(Options("k", new ProxyTenant { Name = name })), p => p.StartsWith("Tenants[0]: ", StringComparison.Ordinal) && p.Contains(expected, StringComparison.Ordinal));

    [Fact]
    public void TheNameDefault_IsTheGates() =>
        Assert.Contains("Tenants[0] 'Default': the name 'default' is the gate's own", Assert.Single(Problems(Options("k", new ProxyTenant { Name = "Default" }))), StringComparison.Ordinal);

    [Fact]
    public void BadHash_IsNamed_WithoutItsValue()
    {
        const string pastedKey = "sk-this-is-the-key-itself";

        var problem = Assert.Single(Problems(Options("k", new ProxyTenant { Name = "app", KeySha256 = pastedKey })));

        Assert.StartsWith("Tenants[0] 'app': KeySha256 must be 64 hex digits", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(pastedKey, problem, StringComparison.Ordinal);
        Assert.Single(Problems(Options("k", new ProxyTenant { Name = "app", KeySha256 = AppHash[..63] + "g" })));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(1000.5)]
    [InlineData(double.NaN)]
    public void WeightOutOfRange_IsNamed(double weight) =>
        Assert.Contains("Tenants[0] 'app': Weight must be more than 0 and at most 1000", Assert.Single(Problems(Options("k", new ProxyTenant { Name = "app", Weight = weight }))), StringComparison.Ordinal);

    [Fact]
    public void PriorityAndSpendCap_OutOfRange_AreNamed()
    {
        var problems = Problems(Options("k", new ProxyTenant { Name = "a", Priority = 101 }, new ProxyTenant { Name = "b", MaxSpendPerDay = 0 }));

        Assert.Contains(problems, p => p.StartsWith("Tenants[0] 'a': Priority must be from -100 to 100", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Tenants[1] 'b': MaxSpendPerDay must be more than 0", StringComparison.Ordinal));
    }

    [Fact]
    public void DuplicateNamesAndKeys_AreNamed()
    {
        var problems = Problems(Options(
            "k",
            new ProxyTenant { Name = "app", KeySha256 = AppHash },
            new ProxyTenant { Name = "APP" },
            new ProxyTenant { Name = "other", KeySha256 = AppHash.ToUpperInvariant() }));

        Assert.Contains(problems, p => p.Contains("the name 'app' is used twice", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("tenants 'app' and 'other' have the same key", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains(AppHash, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("x-api-key")]
    [InlineData("Connection")]
    [InlineData("x-sluice-cache")]
    [InlineData("bad header")]
    [InlineData("")]
    public void TenantHeader_MustBeAPlainUnreservedName(string header)
    {
        var options = Options("k");
        options.TenantHeader = header;

        Assert.Contains("TenantHeader must be a plain header name", Assert.Single(Problems(options)), StringComparison.Ordinal);
    }

    [Fact]
    public void TheProxy_RefusesToStart_WithEveryTenantProblem()
    {
        var options = Options(null, new ProxyTenant { Name = "app", KeySha256 = AppHash, Weight = 0 });

        var thrown = Assert.Throws<OptionsValidationException>(() => new SluiceProxy(Microsoft.Extensions.Options.Options.Create(options), new NoMeters()));

        Assert.Equal(2, thrown.Failures.Count());
    }

    [Fact]
    public void Tenants_BindFromConfiguration_AsAHostsAppSettingsGiveThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SluiceProxy:Upstreams:0:Name"] = "up",
            ["SluiceProxy:Upstreams:0:Url"] = "http://127.0.0.1:9/",
            ["SluiceProxy:Upstreams:0:ApiKey"] = "sk-upstream",
            ["SluiceProxy:TenantHeader"] = "x-sluice-tenant",
            ["SluiceProxy:Tenants:0:Name"] = "app",
            ["SluiceProxy:Tenants:0:KeySha256"] = AppHash,
            ["SluiceProxy:Tenants:0:Weight"] = "3",
            ["SluiceProxy:Tenants:0:Priority"] = "1",
            ["SluiceProxy:Tenants:0:Limits:RequestsPerMinute"] = "100",
            ["SluiceProxy:Tenants:0:Limits:MaxConcurrency"] = "4",
            ["SluiceProxy:Tenants:1:Name"] = "batch",
            ["SluiceProxy:Tenants:1:MaxSpendPerDay"] = "2.5",
        }).Build();
        using var services = new ServiceCollection().AddSluiceProxy(configuration.GetSection("SluiceProxy")).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<SluiceProxyOptions>>().Value;

        Assert.Equal("x-sluice-tenant", options.TenantHeader);
        var app = options.Tenants[0];
        Assert.Equal(("app", AppHash, 3.0, 1, 100.0, 4), (app.Name, app.KeySha256, app.Weight, app.Priority, app.Limits!.RequestsPerMinute, app.Limits.MaxConcurrency));
        Assert.Equal(("batch", 2.5m, 1.0), (options.Tenants[1].Name, options.Tenants[1].MaxSpendPerDay, options.Tenants[1].Weight));
        Assert.Empty(Problems(options));
    }

    private sealed class NoMeters : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
