using PuppeteerSharp;

namespace Sluice.Browser.Tests;

/// <summary>Temporary: chromium starts headless.</summary>
public sealed class SmokeTests
{
    [Fact]
    public async Task ChromiumStarts()
    {
        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        await using var page = await browser.NewPageAsync();
        await page.SetContentAsync("<p id=x>hello</p>");
        Assert.Equal("hello", await page.EvaluateExpressionAsync<string>("document.getElementById('x').textContent"));
    }
}
