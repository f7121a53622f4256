using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>How an answer is spoiled on purpose.</summary>
internal enum ResponseFlaw
{
    None,

    /// <summary>A 200 whose body (or one stream event) is cut mid-JSON.</summary>
    Malformed,

    /// <summary>A stream that ends cleanly halfway, before its final event.</summary>
    StreamCut,
}

/// <summary>The usage an answer reported.</summary>
internal readonly record struct Usage(long PromptTokens, long CompletionTokens);

/// <summary>
/// One API endpoint: how it reads a request and writes a successful answer. Everything in between
/// (auth, budgets, faults, latency, headers, statistics) is the <see cref="ApiPipeline"/>'s.
/// </summary>
internal interface IApiEndpoint
{
    Provider Provider { get; }

    /// <summary>Validates the body; on failure returns null and the provider's error.</summary>
    ApiRequest? Parse(JsonElement body, out ApiError? error);

    /// <summary>Writes the answer (status, content type, body) and returns the usage it reported.</summary>
    Task<Usage> WriteAsync(HttpContext http, ApiRequest request, ResponseFlaw flaw, CancellationToken cancellationToken);
}
