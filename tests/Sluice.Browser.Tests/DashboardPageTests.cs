using Sluice.Browser.Tests.Support;
using Sluice.Mock;
using Sluice.Proxy;

namespace Sluice.Browser.Tests;

/// <summary>
/// The dashboard in a real browser (Debian's headless chromium): the proxy in front of two mocks, requests flowing
/// through it, and the rendered page read by its <c>data-testid</c>s.
/// </summary>
public sealed class DashboardPageTests
{
    [Fact]
    public async Task Page_ShowsLiveNumbers_ThatChangeAsRequestsFlow_AndFetchesOnlyFromTheProxy()
    {
        // "paced": the proxy's configured budget is under the mock's, so requests wait at the proxy and none is refused.
        // "strict": the proxy is told a budget 5x the mock's, which states none in headers: the mock answers 429s, the
        // proxy retries them and learns the real budget.
        await using var host = await DashboardHost.StartAsync(
            [
                new MockOptions { Limits = new MockLimits { RequestsPerMinute = 1_200 }, Latency = TimeSpan.FromMilliseconds(200) },
                new MockOptions { Limits = new MockLimits { RequestsPerMinute = 120 }, RateLimitHeaders = false },
            ],
            (options, mocks) =>
            {
                options.Upstreams.Add(new ProxyUpstream { Name = "paced", Url = mocks[0], RequestsPerMinute = 600, IsDefault = true });
                options.Upstreams.Add(new ProxyUpstream { Name = "strict", Url = mocks[1], RequestsPerMinute = 600, Prefix = "/strict" });
            });
        await using var browser = await Chromium.LaunchAsync();
        var (page, requests) = await Chromium.OpenAsync(browser);
        await using var traffic = new Traffic(host.BaseUrl, clients: 16);
        await using var throttled = new Traffic(host.BaseUrl, clients: 4, path: "strict/v1/chat/completions");

        await page.GoToAsync(host.Page.ToString());
        await Dom.WaitAsync(page, "() => document.querySelectorAll('[data-testid=\"partition\"]').length >= 2", "a partition of each upstream");
        await Dom.WaitAsync(page, $"() => {{ {Dom.NumberOf} return numberOf('sum-answered') > 0; }}", "answered requests");
        double firstAnswered = await Dom.NumberAsync(page, "sum-answered");
        string firstUpdate = await Dom.TextAsync(page, "last-updated");

        // Seconds later, the numbers have moved on with the requests.
        await Dom.WaitAsync(page, $"(first) => {{ {Dom.NumberOf} return numberOf('sum-answered') >= first + 20; }}", "the answered count grow", firstAnswered);
        await Dom.WaitAsync(page, "(first) => document.querySelector('[data-testid=\"last-updated\"]').textContent !== first", "a later update time", firstUpdate);
        await Dom.WaitAsync(page, "() => Number(document.querySelector('[data-testid=\"chart\"]').dataset.answeredSeconds) >= 2", "answered seconds on the chart");
        await Dom.WaitAsync(page, "() => Number(document.querySelector('[data-testid=\"chart\"]').dataset.throttledSeconds) >= 1", "429s on the chart");
        // 16 clients at 10 requests a second: some wait at the proxy, some are with the mock.
        await Dom.WaitAsync(page, "() => { const s = '[data-testid=\"upstream\"][data-name=\"paced\"] '; const n = (id) => Number(document.querySelector(s + '[data-testid=\"' + id + '\"]').textContent.replace(/,/g, '')); return n('upstream-waiting') > 0 && n('upstream-in-flight') > 0; }", "requests waiting and in flight at 'paced'");
        await Dom.WaitAsync(page, "() => { const s = '[data-testid=\"upstream\"][data-name=\"strict\"] '; const n = (id) => Number(document.querySelector(s + '[data-testid=\"' + id + '\"]').textContent.replace(/,/g, '')); return n('upstream-throttled') > 0 && n('upstream-retries') > 0; }", "429s and retries at 'strict'");

        string pacedBudget = await Dom.TextAsync(page, "partition-rpm", "[data-testid=\"upstream\"][data-name=\"paced\"]");
        Assert.Contains("600", pacedBudget, StringComparison.Ordinal);
        Assert.Contains("configured", pacedBudget, StringComparison.Ordinal);
        Assert.Equal("live", await Dom.TextAsync(page, "state"));
        Assert.Equal(299, int.Parse(await page.EvaluateExpressionAsync<string>("document.querySelector('[data-testid=\"chart\"]').dataset.points"), System.Globalization.CultureInfo.InvariantCulture));

        // Nothing but the proxy: the page, its two assets and the status, over and over (and the browser's favicon).
        var origin = host.BaseUrl.GetLeftPart(UriPartial.Authority);
        Assert.NotEmpty(requests.All);
        Assert.All(requests.All, request => Assert.StartsWith(origin + "/", request.Url, StringComparison.Ordinal));
        Assert.Contains(requests.All, request => request.Url == origin + "/sluice/assets/app.js");
        Assert.Contains(requests.All, request => request.Url == origin + "/sluice/assets/app.css");
        // At least the two polls the update times above came from (the numbers may move that fast).
        Assert.InRange(requests.All.Count(request => request.Url == origin + "/sluice/status"), 2, int.MaxValue);
    }

    [Fact]
    public async Task Page_SaysTheProxyIsUnreachable_WhenItStops()
    {
        await using var host = await DashboardHost.StartAsync(
            [new MockOptions()],
            (options, mocks) => options.Upstreams.Add(new ProxyUpstream { Name = "default", Url = mocks[0], IsDefault = true }));
        await using var browser = await Chromium.LaunchAsync();
        var (page, _) = await Chromium.OpenAsync(browser);
        await page.GoToAsync(host.Page.ToString());
        await Dom.WaitAsync(page, "() => document.querySelector('[data-testid=\"state\"]').textContent === 'live' && document.querySelector('[data-testid=\"error\"]').hidden", "the live state, no error");

        await host.StopProxyAsync();

        await Dom.WaitAsync(page, "() => document.querySelector('[data-testid=\"state\"]').textContent === 'unreachable' && !document.querySelector('[data-testid=\"error\"]').hidden", "the unreachable state");
        Assert.Contains("unreachable", await Dom.TextAsync(page, "error"), StringComparison.Ordinal);
        // The last data stays, marked stale, with the time it was read.
        Assert.NotEqual("never", await Dom.TextAsync(page, "last-updated"));
        Assert.Single(await page.QuerySelectorAllAsync("[data-testid=\"upstream\"]"));
    }

    [Fact]
    public async Task PausedAndStoppedPartitions_ShowACountdown_AndTheReason()
    {
        // "slow": the mock allows 2 requests a minute and says so only with a Retry-After of about 30 s, which pauses
        // the partition. "spent": the mock's quota runs out after 2 requests, which stops the partition.
        await using var host = await DashboardHost.StartAsync(
            [
                new MockOptions { Limits = new MockLimits { RequestsPerMinute = 2 }, RateLimitHeaders = false },
                new MockOptions { Faults = new MockFaults { QuotaExhaustedAfterRequests = 2 } },
            ],
            (options, mocks) =>
            {
                options.Upstreams.Add(new ProxyUpstream { Name = "slow", Url = mocks[0], RequestsPerMinute = 600, IsDefault = true });
                options.Upstreams.Add(new ProxyUpstream { Name = "spent", Url = mocks[1], Prefix = "/spent" });
            });
        await using var browser = await Chromium.LaunchAsync();
        var (page, _) = await Chromium.OpenAsync(browser);
        await using var slow = new Traffic(host.BaseUrl, clients: 2);
        await using var spent = new Traffic(host.BaseUrl, clients: 1, path: "spent/v1/chat/completions");

        await page.GoToAsync(host.Page.ToString());
        const string SlowState = "document.querySelector('[data-testid=\"upstream\"][data-name=\"slow\"] [data-testid=\"partition-state\"]')";
        await Dom.WaitAsync(page, $"() => {{ const e = {SlowState}; return e && /^paused \\d+ s$/.test(e.textContent); }}", "a paused partition");
        int first = int.Parse(System.Text.RegularExpressions.Regex.Match(await page.EvaluateExpressionAsync<string>(SlowState + ".textContent"), "\\d+").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(first, 1, 60);
        // The countdown runs between polls' data: the proxy's paused_until stays, the page's clock moves on.
        await Dom.WaitAsync(page, $"(first) => {{ const m = /^paused (\\d+) s$/.exec({SlowState}.textContent); return m && Number(m[1]) < first; }}", "the countdown going down", first);

        await Dom.WaitAsync(page, "() => { const e = document.querySelector('[data-testid=\"upstream\"][data-name=\"spent\"] [data-testid=\"partition-state\"]'); return e && e.textContent.startsWith('stopped: '); }", "a stopped partition with its reason");
        string stopped = await Dom.TextAsync(page, "partition-state", "[data-testid=\"upstream\"][data-name=\"spent\"]");
        Assert.True(stopped.Length > "stopped: ".Length, stopped);
    }
}
