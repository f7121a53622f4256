using PuppeteerSharp;

namespace Sluice.Browser.Tests.Support;

/// <summary>
/// Debian's headless chromium driven by PuppeteerSharp: never a downloaded browser. Missing or unable to start, it
/// fails the test with a message saying how to install it (test.sh does), never skips it.
/// </summary>
internal static class Chromium
{
    /// <summary>Where Debian's package puts it; <c>SLUICE_CHROMIUM</c> names another.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("SLUICE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Every wait on the page: a busy two-core box may take a while to render.</summary>
    public const int WaitMilliseconds = 45_000;

    public static async Task<IBrowser> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"chromium is not at {ExecutablePath}: install Debian's package (apt-get install chromium; test.sh does it) or set SLUICE_CHROMIUM.");
        }

        try
        {
            return await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                // Root in a container: chromium's sandbox needs namespaces it cannot have; /dev/shm may be tiny.
                Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--disable-extensions"],
                DefaultViewport = new ViewPortOptions { Width = 1280, Height = 800 },
                Timeout = 60_000,
                ProtocolTimeout = 60_000,
            });
        }
        catch (Exception exception) when (exception is not InvalidOperationException)
        {
            throw new InvalidOperationException($"chromium at {ExecutablePath} did not start headless: {exception.Message}", exception);
        }
    }

    /// <summary>A new page whose every request is recorded (URL and headers), for checking where it goes.</summary>
    public static async Task<(IPage Page, RequestLog Requests)> OpenAsync(IBrowser browser)
    {
        var page = await browser.NewPageAsync();
        page.DefaultTimeout = WaitMilliseconds;
        page.DefaultNavigationTimeout = WaitMilliseconds;
        var log = new RequestLog();
        page.Request += (_, e) => log.Add(e.Request.Url, e.Request.Headers);
        return (page, log);
    }
}
