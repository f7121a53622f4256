using System.Text.Json;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// What the engine needs to know about a request body, read in one parse: its model, whether it streams, and the body
/// as sent (a streamed chat completion asked to report usage). Its token estimate for the gate is made when first asked
/// for (<see cref="EstimateOf"/>): counting a prompt's tokens costs more than everything else about a request, and a
/// request answered from the response cache never needs it (a cached rerun of 20,000 lines: 4.1 s before).
/// </summary>
internal readonly record struct RequestFacts(string? Model, bool IsStreaming, byte[] Body, bool UsageAdded)
{
    /// <summary>The token estimate of a body as sent (read again: only requests that reach the gate or a price need it).</summary>
    /// <param name="path">The request path, which names the endpoint.</param>
    /// <param name="body">The body as sent.</param>
    /// <param name="waitForTokenizer">
    /// Told the model once it is read; false to estimate at the four-characters-a-token floor while the model's
    /// tokenizer loads.
    /// </param>
    public static TokenEstimate EstimateOf(string path, byte[] body, Func<string?, bool> waitForTokenizer)
    {
        if (!JsonBody.TryParse(body, out var document))
        {
            return TokenEstimator.Shared.Estimate(path, body, waitForTokenizer(null));
        }

        using (document)
        {
            var root = document.RootElement;
            string? model = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var name) && name.ValueKind == JsonValueKind.String
                ? name.GetString()
                : null;
            return TokenEstimator.Shared.Estimate(path, root, waitForTokenizer(model));
        }
    }

    /// <summary>Reads a body once. A body that is not one JSON value is sent as it is (and estimated by its length).</summary>
    /// <param name="path">The request path, which names the endpoint.</param>
    /// <param name="body">The body as the caller gave it.</param>
    public static RequestFacts Read(string path, byte[] body)
    {
        if (!JsonBody.TryParse(body, out var document))
        {
            return new RequestFacts(null, false, body, false);
        }

        using (document)
        {
            var root = document.RootElement;
            string? model = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var name) && name.ValueKind == JsonValueKind.String
                ? name.GetString()
                : null;
            bool streaming = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
            byte[] sent = streaming && ApiEndpoints.FromPath(path) == ApiEndpoint.ChatCompletions ? UsageReader.EnsureStreamUsage(body, root) : body;
            return new RequestFacts(model, streaming, sent, !ReferenceEquals(sent, body));
        }
    }
}
