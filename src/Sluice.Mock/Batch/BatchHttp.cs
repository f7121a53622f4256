using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Sluice.Mock.Endpoints;
using Sluice.Mock.Hosting;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>What the Batch API endpoints share: request ids, JSON and error answers, bodies read within a bound.</summary>
internal sealed class BatchHttp(MockEngine engine)
{
    public BatchStore Store => engine.Batches!;

    /// <summary>Where the API is served (<c>/v1</c> unless another root was set), for the URLs the mock hands out.</summary>
    public string ApiRoot => engine.ApiRoot;

    /// <summary>Counts the request as the live endpoints do and answers a failure in the provider's shape.</summary>
    public async Task HandleAsync(HttpContext http, Provider provider, Func<HttpContext, CancellationToken, Task> handle)
    {
        engine.Stats.RequestStarted();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, engine.Stopping);
        try
        {
            if (provider == Provider.Anthropic && string.IsNullOrEmpty(http.Request.Headers["anthropic-version"].ToString()))
            {
                await ErrorAsync(http, provider, ApiErrors.MissingAnthropicVersion(), cancellation.Token).ConfigureAwait(false);
                return;
            }

            await handle(http, cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            http.Abort();
        }
#pragma warning disable CA1031 // A bug in the mock must still give the client an answer in the provider's shape, counted as mock_error.
        catch (Exception) when (!http.Response.HasStarted)
#pragma warning restore CA1031
        {
            await ErrorAsync(http, provider, ApiErrors.MockError(provider), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            engine.Stats.RequestEnded();
        }
    }

    public Task JsonAsync(HttpContext http, Provider provider, int status, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        WriteRequestId(http, provider);
        return JsonResponse.WriteAsync(http, status, write, truncate: false, cancellationToken);
    }

    public Task ErrorAsync(HttpContext http, Provider provider, ApiError error, CancellationToken cancellationToken)
    {
        if (error.StatsReason is not null)
        {
            engine.Stats.Rejected(error.StatsReason);
        }

        var requestId = WriteRequestId(http, provider);
        return JsonResponse.WriteAsync(http, error.Status, writer => ApiErrors.Write(writer, provider, error, requestId), truncate: false, cancellationToken);
    }

    public Task NotFoundAsync(HttpContext http, Provider provider, CancellationToken cancellationToken) =>
        ErrorAsync(http, provider, ApiErrors.NotFound(provider, http.Request.Method, http.Request.Path), cancellationToken);

    public static async Task BytesAsync(HttpContext http, string contentType, byte[] content, CancellationToken cancellationToken)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = contentType;
        http.Response.ContentLength = content.Length;
        await http.Response.Body.WriteAsync(content, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lets the request body be up to <paramref name="maxBytes"/>, past Kestrel's default of 30 MB.</summary>
    public static void AllowBody(HttpContext http, long maxBytes)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }
    }

    /// <summary>The JSON body, or the provider's error: malformed JSON, or a body over the allowed size (413).</summary>
    public static async Task<(JsonDocument? Document, ApiError? Error)> ReadJsonAsync(HttpContext http, Provider provider, CancellationToken cancellationToken)
    {
        try
        {
            return (await JsonDocument.ParseAsync(http.Request.Body, default, cancellationToken).ConfigureAwait(false), null);
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
            return (null, ApiErrors.MalformedJson(provider));
        }
    }

    public static string RouteId(HttpContext http) => http.Request.RouteValues["id"]?.ToString() ?? "";

    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    private string WriteRequestId(HttpContext http, Provider provider)
    {
        var name = provider == Provider.OpenAI ? "x-request-id" : "request-id";
        var id = provider == Provider.OpenAI ? engine.Ids.OpenAIRequest() : engine.Ids.AnthropicRequest();
        http.Response.Headers[name] = id;
        return id;
    }
}
