using Sluice.Browser.Tests.Support;
using Sluice.Mock;
using Sluice.Proxy;

namespace Sluice.Browser.Tests;

/// <summary>The dashboard of a proxy with a key: the page asks for it, sends it only as a header, and never shows it.</summary>
public sealed class DashboardKeyTests
{
    private const string ProxyKey = "sk-proxy-7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4";

    [Fact]
    public async Task ProxyWithAKey_PageAsksForIt_ThenShowsData_AndTheKeyIsNowhereInThePage()
    {
        await using var host = await DashboardHost.StartAsync(
            [new MockOptions()],
            (options, mocks) =>
            {
                options.ProxyKey = ProxyKey;
                options.Upstreams.Add(new ProxyUpstream { Name = "default", Url = mocks[0], RequestsPerMinute = 600, IsDefault = true });
            });
        await using var browser = await Chromium.LaunchAsync();
        var (page, requests) = await Chromium.OpenAsync(browser);
        await using var traffic = new Traffic(host.BaseUrl, clients: 2, headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + ProxyKey });

        await page.GoToAsync(host.Page.ToString());
        await Dom.WaitAsync(page, "() => !document.querySelector('[data-testid=\"key-form\"]').hidden", "the key form");
        Assert.Empty(await page.QuerySelectorAllAsync("[data-testid=\"upstream\"]"));

        // A wrong key is refused, and the form says so.
        await page.TypeAsync("[data-testid=\"key-input\"]", "not-the-key");
        await page.ClickAsync("[data-testid=\"key-submit\"]");
        await Dom.WaitAsync(page, "() => document.querySelector('#key-message').textContent.includes('not accepted')", "the key refused");

        await page.TypeAsync("[data-testid=\"key-input\"]", ProxyKey);
        await page.ClickAsync("[data-testid=\"key-submit\"]");
        await Dom.WaitAsync(page, "() => document.querySelector('[data-testid=\"key-form\"]').hidden && document.querySelectorAll('[data-testid=\"partition\"]').length === 1", "the status after the key");
        await Dom.WaitAsync(page, $"() => {{ {Dom.NumberOf} return numberOf('sum-answered') > 0; }}", "answered requests");

        string html = await page.GetContentAsync();
        string text = await page.EvaluateExpressionAsync<string>("document.body.innerText");
        Assert.DoesNotContain(ProxyKey, html, StringComparison.Ordinal);
        Assert.DoesNotContain(ProxyKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ProxyKey, page.Url, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await page.EvaluateExpressionAsync<string>("document.querySelector('[data-testid=\"key-input\"]').value"));
        // Kept for this tab only, and sent as a header, never in a URL.
        Assert.Equal(ProxyKey, await page.EvaluateExpressionAsync<string>("sessionStorage.getItem('sluice.dashboard.key')"));
        Assert.Equal(0, await page.EvaluateExpressionAsync<int>("localStorage.length"));
        Assert.Empty(await page.GetCookiesAsync());
        Assert.All(requests.All, request => Assert.DoesNotContain(ProxyKey, request.Url, StringComparison.Ordinal));
        var withKey = requests.All.Where(r => r.Headers.TryGetValue("Authorization", out var value) && value == "Bearer " + ProxyKey).ToList();
        Assert.NotEmpty(withKey);
        Assert.All(withKey, request => Assert.EndsWith("/sluice/status", request.Url, StringComparison.Ordinal));
    }
}
