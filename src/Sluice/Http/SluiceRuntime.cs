using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Options;
using Sluice.Providers;

namespace Sluice.Http;

/// <summary>
/// What every <see cref="SluiceHandler"/> of one client shares: the gate (so budgets span handler instances, which
/// the HTTP client factory recycles), the dispatcher, the provider profile, and the answer that stopped each stopped
/// partition, so later callers get the provider's own error quickly instead of a retry storm.
/// </summary>
internal sealed class SluiceRuntime : IDisposable
{
    private readonly ConcurrentDictionary<string, StoppedAnswer> _stopAnswers = new(StringComparer.Ordinal);

    public SluiceRuntime(SluiceHandlerOptions options, TimeProvider time, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory, Random random)
    {
        OptionsGuard.ThrowIfInvalid(new SluiceHandlerOptionsValidator(), options, nameof(options));
        Options = options;
        Time = time;
        Profile = ProviderProfile.For(options.Provider);
        var byModel = options.Partitions.ToDictionary(p => p.Key, p => Adapt(p.Value), StringComparer.OrdinalIgnoreCase);
        Gate = SluiceGate.Create(
            new GateOptions
            {
                DefaultLimits = Adapt(options.DefaultLimits),
                LimitsSelector = key => byModel.GetValueOrDefault(PartitionKeys.ModelOf(key)),
            },
            time,
            loggerFactory,
            meterFactory);
        Dispatcher = SluiceDispatcher.Create(Gate, options.Retry, loggerFactory, random);
        Refresher = options.RefreshCredentials is { } hook ? new CredentialRefresher(hook) : null;
    }

    /// <summary>Refreshes rejected credentials, when the options give a hook.</summary>
    public CredentialRefresher? Refresher { get; }

    public SluiceHandlerOptions Options { get; }

    public TimeProvider Time { get; }

    public ProviderProfile Profile { get; }

    public SluiceGate Gate { get; }

    public SluiceDispatcher Dispatcher { get; }

    public void RememberStop(string partition, HttpResponseMessage response, byte[] body) =>
        _stopAnswers[partition] = new StoppedAnswer(response.StatusCode, response.ReasonPhrase, body, [.. response.Content.Headers], [.. response.Headers]);

    /// <summary>The provider's answer that stopped <paramref name="partition"/>, as a new response for another caller.</summary>
    public HttpResponseMessage? StopAnswerFor(string partition, HttpRequestMessage request)
    {
        if (!_stopAnswers.TryGetValue(partition, out var answer))
        {
            return null;
        }

        var response = new HttpResponseMessage(answer.Status)
        {
            ReasonPhrase = answer.ReasonPhrase,
            RequestMessage = request,
            Content = new ByteArrayContent(answer.Body),
        };
        OutgoingRequest.CopyContentHeaders(answer.ContentHeaders, response.Content.Headers);
        foreach (var header in answer.Headers)
        {
            response.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return response;
    }

    public void Dispose()
    {
        Refresher?.Dispose();
        Dispatcher.Dispose();
        Gate.Dispose();
    }

    private PartitionLimits Adapt(PartitionLimits limits)
    {
        var copy = limits.Clone();
        copy.AdaptiveConcurrency |= Options.AdaptiveConcurrency;
        copy.AwaitFirstHeaders = Profile.AwaitsFirstHeaders;
        return copy;
    }

    private sealed record StoppedAnswer(
        System.Net.HttpStatusCode Status,
        string? ReasonPhrase,
        byte[] Body,
        KeyValuePair<string, IEnumerable<string>>[] ContentHeaders,
        KeyValuePair<string, IEnumerable<string>>[] Headers);
}
