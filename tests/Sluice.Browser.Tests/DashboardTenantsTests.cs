using Sluice.Browser.Tests.Support;
using Sluice.Mock;
using Sluice.Proxy;

namespace Sluice.Browser.Tests;

/// <summary>
/// Two tenants sharing one upstream's budget: the page shows each one's share received against its share due, and
/// the tenants' counts; it is also the scene of the screenshot in docs/proxy.md.
/// </summary>
public sealed class DashboardTenantsTests
{
    [Fact]
    public async Task TwoTenants_ShowTheirSharesAndCounts_AsTheyChange()
    {
        await using var host = await DashboardHost.StartAsync(
            [
                new MockOptions { Limits = new MockLimits { RequestsPerMinute = 1_200, TokensPerMinute = 400_000 }, Latency = TimeSpan.FromMilliseconds(250), LatencyJitter = TimeSpan.FromMilliseconds(150) },
                new MockOptions { Limits = new MockLimits { RequestsPerMinute = 60 }, RateLimitHeaders = false },
            ],
            (options, mocks) =>
            {
                options.TenantHeader = "x-sluice-tenant";
                options.Tenants.Add(new ProxyTenant { Name = "app", Weight = 3 });
                options.Tenants.Add(new ProxyTenant { Name = "batch", Weight = 1 });
                options.Upstreams.Add(new ProxyUpstream { Name = "openai", Url = mocks[0], RequestsPerMinute = 480, TokensPerMinute = 200_000, MaxSpendPerDay = 25, IsDefault = true });
                options.Upstreams.Add(new ProxyUpstream { Name = "local-llm", Url = mocks[1], RequestsPerMinute = 300, Prefix = "/local" });
            });
        await using var browser = await Chromium.LaunchAsync();
        var (page, _) = await Chromium.OpenAsync(browser);
        await using var app = new Traffic(host.BaseUrl, clients: 10, headers: new Dictionary<string, string> { ["x-sluice-tenant"] = "app" });
        await using var batch = new Traffic(host.BaseUrl, clients: 10, headers: new Dictionary<string, string> { ["x-sluice-tenant"] = "batch" });
        await using var local = new Traffic(host.BaseUrl, clients: 3, path: "local/v1/chat/completions", headers: new Dictionary<string, string> { ["x-sluice-tenant"] = "batch" });

        await page.GoToAsync(host.Page.ToString());
        await Dom.WaitAsync(page, "() => ['app', 'batch'].every(n => document.querySelector('[data-testid=\"tenant\"][data-name=\"' + n + '\"]'))", "both tenants in the tenants table");
        await Dom.WaitAsync(page, "() => ['app', 'batch'].every(n => document.querySelector('[data-testid=\"upstream\"][data-name=\"openai\"] [data-testid=\"partition-tenant\"][data-name=\"' + n + '\"]'))", "both tenants under the partition");
        double appRequests = await Dom.NumberAsync(page, "tenant-requests", "[data-testid=\"tenant\"][data-name=\"app\"]");

        // Live: the tenant's count grows, and both show a share of the budget and a share due while they wait.
        await Dom.WaitAsync(page, "(first) => Number(document.querySelector('[data-testid=\"tenant\"][data-name=\"app\"] [data-testid=\"tenant-requests\"]').textContent.replace(/,/g, '')) >= first + 5", "the tenant's requests grow", appRequests);
        await Dom.WaitAsync(page, "() => [...document.querySelectorAll('[data-testid=\"upstream\"][data-name=\"openai\"] [data-testid=\"share-received\"]')].filter(e => parseInt(e.textContent, 10) > 0).length === 2", "a share received by each tenant");
        await Dom.WaitAsync(page, "() => [...document.querySelectorAll('[data-testid=\"upstream\"][data-name=\"openai\"] [data-testid=\"share-due\"]')].map(e => e.textContent).sort().join() === '25% due,75% due'", "the shares due 75% and 25%");
        // Weights 3:1, both busy: the heavier tenant is seen receiving the larger share, its weight beside its name.
        await Dom.WaitAsync(page, "() => { const share = (n) => parseInt(document.querySelector('[data-testid=\"upstream\"][data-name=\"openai\"] [data-testid=\"tenant-share\"][data-name=\"' + n + '\"] [data-testid=\"share-received\"]').textContent, 10); return share('app') > share('batch'); }", "app receiving more than batch");
        Assert.EndsWith("×3", await page.EvaluateExpressionAsync<string>("document.querySelector('[data-testid=\"partition-tenant\"][data-name=\"app\"]').textContent"), StringComparison.Ordinal);

        // For the docs: a screenshot of this scene (bench/dashboard/screenshot.sh names where, and lets the chart fill).
        string path = Environment.GetEnvironmentVariable("SLUICE_DASHBOARD_SCREENSHOT") is { Length: > 0 } wanted ? wanted : Path.Combine(Path.GetTempPath(), $"sluice-dashboard-{Guid.NewGuid():N}.png");
        if (int.TryParse(Environment.GetEnvironmentVariable("SLUICE_DASHBOARD_SCREENSHOT_SECONDS"), out int seconds) && seconds > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds));
        }

        await page.ScreenshotAsync(path, new PuppeteerSharp.ScreenshotOptions { FullPage = true });
        try
        {
            byte[] png = await File.ReadAllBytesAsync(path);
            Assert.InRange(png.Length, 10_000, int.MaxValue);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
        finally
        {
            if (!string.Equals(path, Environment.GetEnvironmentVariable("SLUICE_DASHBOARD_SCREENSHOT"), StringComparison.Ordinal))
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public async Task TenantNamedByAClient_IsShownAsText_NeverAsMarkup()
    {
        // A header names an ad-hoc tenant: whatever a client puts there reaches the status, and so the page.
        const string Name = "<img src=x onerror=\"window.pwned=1\">";
        await using var host = await DashboardHost.StartAsync(
            [new MockOptions()],
            (options, mocks) =>
            {
                options.TenantHeader = "x-sluice-tenant";
                options.Upstreams.Add(new ProxyUpstream { Name = "default", Url = mocks[0], IsDefault = true });
            });
        await using var browser = await Chromium.LaunchAsync();
        var (page, _) = await Chromium.OpenAsync(browser);
        await using var traffic = new Traffic(host.BaseUrl, clients: 1, headers: new Dictionary<string, string> { ["x-sluice-tenant"] = Name });

        await page.GoToAsync(host.Page.ToString());
        await Dom.WaitAsync(page, "(name) => document.querySelector('[data-testid=\"tenant\"]') && document.querySelector('[data-testid=\"tenant\"]').dataset.name === name", "the tenant", Name);

        Assert.Equal(Name, await page.EvaluateExpressionAsync<string>("document.querySelector('[data-testid=\"tenant\"] td').textContent"));
        Assert.Empty(await page.QuerySelectorAllAsync("main img"));
        Assert.Equal("undefined", await page.EvaluateExpressionAsync<string>("typeof window.pwned"));
    }
}
