using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Content;
using Sluice.Mock.Endpoints;
using Sluice.Mock.Hosting;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// Answers a batch line with the live endpoints' own parsing and replies, so usage and bodies are exactly what a
/// live call would get. It uses an engine of its own, without latency or faults: a batch's pace is the batch's.
/// </summary>
internal sealed class BatchAnswers
{
    private readonly MockEngine _engine;
    private readonly Dictionary<string, IApiEndpoint> _endpoints;
    private readonly double _failureRate;
    private readonly int _seed;

    public BatchAnswers(MockEngine answersEngine, double failureRate, int seed)
    {
        _engine = answersEngine;
        _failureRate = failureRate;
        _seed = seed;
        _endpoints = new(StringComparer.Ordinal)
        {
            ["/v1/chat/completions"] = new ChatCompletionsEndpoint(answersEngine),
            ["/v1/responses"] = new ResponsesEndpoint(answersEngine),
            ["/v1/embeddings"] = new EmbeddingsEndpoint(),
            ["/v1/messages"] = new MessagesEndpoint(answersEngine),
        };
    }

    /// <summary>The OpenAI endpoints a batch may target, as OpenAI lists them.</summary>
    public static IReadOnlyList<string> OpenAIEndpoints { get; } = ["/v1/responses", "/v1/chat/completions", "/v1/embeddings"];

    public bool IsKnownModel(string model) => _engine.Models.IsKnown(model);

    /// <summary>The tokens a line is estimated at (prompt estimate plus output caps), or 0 when it does not parse.</summary>
    public long EstimateTokens(string url, JsonElement body)
    {
        var request = _endpoints[url].Parse(body, out _);
        return request is null ? 0 : request.Cost.Tokens;
    }

    /// <summary>Answers one line. <paramref name="lineKey"/> seeds the failure draw, so the same batch fails the same lines.</summary>
    public async Task<LineAnswer> AnswerAsync(string url, string customId, JsonElement body, ulong lineKey, CancellationToken cancellationToken)
    {
        var endpoint = _endpoints[url];
        var provider = endpoint.Provider;
        var requestId = provider == Provider.OpenAI ? _engine.Ids.OpenAIRequest() : _engine.Ids.AnthropicRequest();
        var request = endpoint.Parse(body, out var error);
        if (request is not null && !_engine.Models.IsKnown(request.Model))
        {
            error = ApiErrors.UnknownModel(provider, request.Model);
            request = null;
        }
        else if (request is not null && request.Stream)
        {
            error = ApiErrors.Unsupported(provider, "stream", "Streaming is not supported in a batch.");
            request = null;
        }

        if (request is null)
        {
            return ErrorAnswer(customId, provider, error!, requestId);
        }

        if (Fails(lineKey))
        {
            return ErrorAnswer(customId, provider, ApiErrors.InternalServerError(provider), requestId);
        }

        var http = new DefaultHttpContext();
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        await endpoint.WriteAsync(http, request, ResponseFlaw.None, cancellationToken).ConfigureAwait(false);
        return new LineAnswer(customId, StatusCodes.Status200OK, Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), true, requestId);
    }

    private bool Fails(ulong lineKey)
    {
        if (_failureRate <= 0)
        {
            return false;
        }

        var state = ((ulong)(uint)_seed << 32) ^ lineKey;
        return DeterministicHash.Next(ref state) / (double)ulong.MaxValue < _failureRate;
    }

    private static LineAnswer ErrorAnswer(string customId, Provider provider, ApiError error, string requestId)
    {
        var body = JsonResponse.Serialize(writer => ApiErrors.Write(writer, provider, error, requestId));
        return new LineAnswer(customId, error.Status, Encoding.UTF8.GetString(body.Span), false, requestId);
    }
}
