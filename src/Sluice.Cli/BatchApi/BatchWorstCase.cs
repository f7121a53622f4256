using System.Net.Http.Headers;
using Sluice.Cli.Run;
using Sluice.Engine;
using Sluice.Http;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// A part's worst case at batch prices: each line captured by an engine as a live run (and <see cref="RunCostScan"/>)
/// captures it, its prompt estimate and output cap priced with <c>ModelPrice.CostOf(..., batch: true)</c>.
/// </summary>
internal sealed class BatchWorstCase(ProviderKind provider, Uri baseUrl, PriceTable prices) : IDisposable
{
    private readonly SluiceEngine _engine = new(new SluiceHandlerOptions { Provider = provider, Prices = prices });

    /// <summary>The sum over <paramref name="requests"/>; null when a line's model has no price (a cap cannot hold it).</summary>
    public decimal? Of(IEnumerable<RequestLine> requests)
    {
        decimal total = 0;
        foreach (var line in requests)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, BaseUrl.Join(baseUrl, line.Url)) { Content = new ByteArrayContent([]) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var request = _engine.Capture(message, line.Body, line.CustomId);
            if (!_engine.Prices.TryFind(provider, request.Model, out var price))
            {
                return null;
            }

            total += price.CostOf(request.EstimatedInputTokens, request.EstimatedOutputTokens, batch: true);
        }

        return total;
    }

    public void Dispose() => _engine.Dispose();
}
