using System.Globalization;
using PuppeteerSharp;

namespace Sluice.Browser.Tests.Support;

/// <summary>Reads the rendered page by its <c>data-testid</c> attributes, and waits for it, always within a bound.</summary>
internal static class Dom
{
    /// <summary>The text of the first element with <paramref name="testId"/> (under an optional <paramref name="scope"/> selector).</summary>
    public static Task<string> TextAsync(IPage page, string testId, string scope = "body") =>
        page.EvaluateFunctionAsync<string>(
            "(scope, id) => { const e = document.querySelector(scope + ' [data-testid=\"' + id + '\"]'); return e ? e.textContent : ''; }",
            scope, testId);

    /// <summary>The number shown by <paramref name="testId"/> ("1,234" reads 1234).</summary>
    public static async Task<double> NumberAsync(IPage page, string testId, string scope = "body")
    {
        string text = await TextAsync(page, testId, scope);
        return double.Parse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until <paramref name="predicate"/> (a JavaScript function of <paramref name="args"/>) is true.</summary>
    public static async Task WaitAsync(IPage page, string predicate, string what, params object[] args)
    {
        try
        {
            await page.WaitForFunctionAsync(predicate, new WaitForFunctionOptions { Timeout = Chromium.WaitMilliseconds, PollingInterval = 200 }, args);
        }
        catch (WaitTaskTimeoutException exception)
        {
            string body = await page.EvaluateExpressionAsync<string>("document.body.innerText");
            throw new TimeoutException($"The page did not show {what} within {Chromium.WaitMilliseconds / 1000} s. It showed:\n{body}", exception);
        }
    }

    /// <summary>A JavaScript function reading the number shown by a test id, for <see cref="WaitAsync"/> predicates.</summary>
    public const string NumberOf = "const numberOf = (id) => { const e = document.querySelector('[data-testid=\"' + id + '\"]'); return e ? Number(e.textContent.replace(/,/g, '')) : NaN; };";
}
