using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Sluice.Mock.Faults;
using Sluice.Mock.Hosting;
using Sluice.Mock.Limits;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>
/// The path every API request takes, in the order a provider checks things:
/// <list type="number">
/// <item>method (anything but POST is an unknown URL) and credential expiry (401);</item>
/// <item>body: JSON, required fields, known model (400/404), then <c>context_length_exceeded</c> (400);</item>
/// <item>quota (OpenAI 429 <c>insufficient_quota</c>, Anthropic 402) and the budgets (429 with <c>retry-after</c>);</item>
/// <item>for an admitted request: at most one random fault, the latency, and the answer.</item>
/// </list>
/// Every answer carries the rate-limit headers (unless turned off) and the provider's request id header.
/// </summary>
internal sealed class ApiPipeline(MockEngine engine)
{
    public const string CustomIdHeader = "X-Sluice-Custom-Id";

    public async Task HandleAsync(HttpContext http, IApiEndpoint endpoint)
    {
        engine.Stats.RequestStarted();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, engine.Stopping);
        try
        {
            await HandleCoreAsync(http, endpoint, cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The client gave up or the mock is stopping: nobody is left to answer.
            http.Abort();
        }
#pragma warning disable CA1031 // A bug in the mock must still give the client an answer in the provider's shape, counted as mock_error.
        catch (Exception) when (!http.Response.HasStarted)
#pragma warning restore CA1031
        {
            await RefuseAsync(http, endpoint.Provider, ApiErrors.MockError(endpoint.Provider), null, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            engine.Stats.RequestEnded();
        }
    }

    /// <summary>Answers a path no endpoint serves, in the shape of the provider the client seems to speak to.</summary>
    public async Task NotFoundAsync(HttpContext http)
    {
        var headers = http.Request.Headers;
        var provider = headers.ContainsKey("anthropic-version") || headers.ContainsKey("x-api-key")
            ? Provider.Anthropic
            : Provider.OpenAI;
        engine.Stats.RequestStarted();
        try
        {
            await RefuseAsync(http, provider, ApiErrors.NotFound(provider, http.Request.Method, http.Request.Path), null, http.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            engine.Stats.RequestEnded();
        }
    }

    private async Task HandleCoreAsync(HttpContext http, IApiEndpoint endpoint, CancellationToken cancellationToken)
    {
        var provider = endpoint.Provider;
        var headers = http.Request.Headers;
        var requestId = NonEmpty(headers["X-Request-Id"]);
        if (requestId is not null)
        {
            engine.Stats.RequestIds.Received(requestId);
        }

        if (!HttpMethods.IsPost(http.Request.Method))
        {
            await RefuseAsync(http, provider, ApiErrors.NotFound(provider, http.Request.Method, http.Request.Path), null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var credential = NonEmpty(headers.Authorization) ?? NonEmpty(headers["x-api-key"]) ?? NonEmpty(headers["api-key"]);
        if (engine.Credentials.IsExpired(credential))
        {
            await FaultAsync(http, provider, FaultKind.AuthExpired, ApiErrors.AuthExpired(provider), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (provider == Provider.Anthropic && NonEmpty(headers["anthropic-version"]) is null)
        {
            await RefuseAsync(http, provider, ApiErrors.MissingAnthropicVersion(), null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (document, bodyError) = await ReadBodyAsync(http, provider, cancellationToken).ConfigureAwait(false);
        if (document is null)
        {
            await RefuseAsync(http, provider, bodyError!, null, cancellationToken).ConfigureAwait(false);
            return;
        }

        ApiRequest? request;
        ApiError? error;
        using (document)
        {
            request = endpoint.Parse(document.RootElement, out error);
        }

        if (request is null)
        {
            await RefuseAsync(http, provider, error!, null, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!engine.Models.IsKnown(request.Model))
        {
            await RefuseAsync(http, provider, ApiErrors.UnknownModel(provider, request.Model), null, cancellationToken).ConfigureAwait(false);
            return;
        }

        // sluice run percent-encodes the id so any Unicode fits in a header; decoding leaves a plain ASCII id as it is.
        var customId = NonEmpty(headers[CustomIdHeader]) is { } sent ? Uri.UnescapeDataString(sent) : request.CustomId;
        if (customId is not null)
        {
            engine.Stats.CustomIds.Received(customId);
        }

        if (engine.ContextLengthLimit is int contextLimit && request.PromptTokens > contextLimit)
        {
            await FaultAsync(http, provider, FaultKind.ContextLengthExceeded, ApiErrors.ContextLength(provider, contextLimit, request.PromptTokens), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!engine.Quota.TryReserve())
        {
            await FaultAsync(http, provider, FaultKind.QuotaExhausted, ApiErrors.InsufficientQuota(provider), cancellationToken).ConfigureAwait(false);
            return;
        }

        var admission = engine.Gate.TryAdmit(request.Cost);
        if (!admission.Admitted)
        {
            engine.Quota.Unreserve();
            var refusal = admission.Refusal switch
            {
                Refusal.TooLarge => ApiErrors.TooLarge(provider, admission, request.Model),
                Refusal.Concurrency => ApiErrors.Concurrency(provider, admission),
                _ => ApiErrors.RateLimited(provider, admission, request.Model),
            };
            RateLimitHeaders.WriteRetryAfter(http.Response.Headers, provider, admission.RetryAfter);
            await RefuseAsync(http, provider, refusal, admission.Snapshot, cancellationToken).ConfigureAwait(false);
            return;
        }

        engine.Stats.Admitted(request.Cost.Tokens);
        long? produced = null;
        try
        {
            produced = await ServeAsync(http, endpoint, request, admission.Snapshot, requestId, customId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            engine.Gate.Release(request.Cost, produced);
            engine.Stats.AdmittedEnded();
        }
    }

    private async Task<long?> ServeAsync(
        HttpContext http, IApiEndpoint endpoint, ApiRequest request, RateLimitSnapshot snapshot,
        string? requestId, string? customId, CancellationToken cancellationToken)
    {
        var provider = endpoint.Provider;
        var fault = engine.FaultDraw.Next(provider == Provider.Anthropic, request.Stream);
        if (fault != FaultKind.None)
        {
            engine.Stats.Fault(fault.StatsName());
        }

        switch (fault)
        {
            case FaultKind.Hang:
                // Never answers: ends only when the client gives up or the mock stops, both of which cancel this wait.
                await Task.Delay(Timeout.InfiniteTimeSpan, engine.Time, cancellationToken).ConfigureAwait(false);
                return null;
            case FaultKind.ConnectionReset:
                http.Abort();
                return null;
        }

        await engine.DelayAsync(engine.Latency.NextFirstByteDelay(), cancellationToken).ConfigureAwait(false);
        WriteCommonHeaders(http, provider, snapshot);
        switch (fault)
        {
            case FaultKind.InternalServerError:
                await WriteErrorAsync(http, provider, ApiErrors.InternalServerError(provider), cancellationToken).ConfigureAwait(false);
                return null;
            case FaultKind.ServiceUnavailable:
                await WriteErrorAsync(http, provider, ApiErrors.ServiceUnavailable(provider), cancellationToken).ConfigureAwait(false);
                return null;
            case FaultKind.Overloaded:
                await WriteErrorAsync(http, provider, ApiErrors.Overloaded(), cancellationToken).ConfigureAwait(false);
                return null;
            case FaultKind.BadGateway:
                // What a gateway in front of the provider sends: HTML, not the provider's JSON.
                http.Response.StatusCode = StatusCodes.Status502BadGateway;
                http.Response.ContentType = "text/html";
                await http.Response.WriteAsync(
                    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
                    cancellationToken).ConfigureAwait(false);
                return null;
        }

        var flaw = fault switch
        {
            FaultKind.MalformedBody => ResponseFlaw.Malformed,
            FaultKind.StreamCut => ResponseFlaw.StreamCut,
            _ => ResponseFlaw.None,
        };
        var usage = await endpoint.WriteAsync(http, request, flaw, cancellationToken).ConfigureAwait(false);
        if (flaw == ResponseFlaw.None)
        {
            engine.Stats.Succeeded(usage.PromptTokens, usage.CompletionTokens, requestId, customId);
        }

        return usage.CompletionTokens;
    }

    private static async Task<(JsonDocument? Document, ApiError? Error)> ReadBodyAsync(
        HttpContext http, Provider provider, CancellationToken cancellationToken)
    {
        try
        {
            var document = await JsonDocument.ParseAsync(http.Request.Body, default, cancellationToken).ConfigureAwait(false);
            return (document, null);
        }
        catch (JsonException)
        {
            return (null, ApiErrors.MalformedJson(provider));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, ApiErrors.PayloadTooLarge(provider));
        }
        catch (BadHttpRequestException)
        {
            // A body that ends early or is framed wrongly is as unreadable as bad JSON.
            return (null, ApiErrors.MalformedJson(provider));
        }
    }

    /// <summary>An injected fault answered before the budgets (auth, quota, context length).</summary>
    private Task FaultAsync(HttpContext http, Provider provider, FaultKind kind, ApiError error, CancellationToken cancellationToken)
    {
        engine.Stats.Fault(kind.StatsName());
        return RefuseAsync(http, provider, error, null, cancellationToken);
    }

    private Task RefuseAsync(HttpContext http, Provider provider, ApiError error, RateLimitSnapshot? snapshot, CancellationToken cancellationToken)
    {
        if (error.StatsReason is not null)
        {
            engine.Stats.Rejected(error.StatsReason);
        }

        WriteCommonHeaders(http, provider, snapshot ?? engine.Gate.Peek());
        return WriteErrorAsync(http, provider, error, cancellationToken);
    }

    private void WriteCommonHeaders(HttpContext http, Provider provider, RateLimitSnapshot snapshot)
    {
        var headers = http.Response.Headers;
        if (provider == Provider.OpenAI)
        {
            headers["x-request-id"] = engine.Ids.OpenAIRequest();
        }
        else
        {
            headers["request-id"] = engine.Ids.AnthropicRequest();
        }

        if (engine.RateLimitHeaders)
        {
            RateLimitHeaders.Write(headers, provider, snapshot);
        }
    }

    private static Task WriteErrorAsync(HttpContext http, Provider provider, ApiError error, CancellationToken cancellationToken)
    {
        var requestId = http.Response.Headers[provider == Provider.OpenAI ? "x-request-id" : "request-id"].ToString();
        return JsonResponse.WriteAsync(http, error.Status, writer => ApiErrors.Write(writer, provider, error, requestId), truncate: false, cancellationToken);
    }

    private static string? NonEmpty(StringValues values)
    {
        var value = values.ToString();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
