using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Sluice.Cli.Common;
using Sluice.Mock;
using Sluice.Text;

namespace Sluice.Cli.Mock;

/// <summary>
/// <c>sluice mock</c>: runs the rate-limited OpenAI/Anthropic simulator until Ctrl-C. Every option maps onto
/// <see cref="MockOptions"/>; docs/mock.md describes them all.
/// </summary>
internal static class MockCommand
{
    private static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 8000);

    // Defaults come from the options themselves, so help and behaviour cannot drift apart.
    private static readonly MockOptions Defaults = new();

    public static Command Create()
    {
        var listen = new Option<IPEndPoint>("--listen")
        {
            Description = "Address and port to listen on (ADDRESS:PORT, localhost:PORT or PORT). Anything but loopback needs --allow-remote.",
            HelpName = "ADDRESS:PORT",
            DefaultValueFactory = _ => DefaultListen,
            CustomParser = OptionKinds.ParseEndPoint,
        };
        var allowRemote = new Option<bool>("--allow-remote")
        {
            Description = "Allow --listen on an address other machines can reach. The mock has no authentication.",
        };
        var apiRoot = new Option<string>("--api-root")
        {
            Description = "Serve the API under this path in place of /v1, as a provider serves it under its base URL's path: /v1beta/openai serves /v1beta/openai/chat/completions; / serves /chat/completions. Other paths get 404.",
            HelpName = "PATH",
            DefaultValueFactory = _ => Defaults.ApiRoot,
        };
        var rpm = OptionKinds.PositiveInt("--rpm", "Requests per minute, over every API endpoint (default: unlimited).");
        var tpm = OptionKinds.PositiveInt("--tpm", "Tokens per minute, over every API endpoint: prompt estimate (characters / 4) plus output cap (default: unlimited).");
        var inputTpm = OptionKinds.PositiveInt("--input-tpm", "Input tokens per minute, for Anthropic /v1/messages only (default: unlimited).");
        var outputTpm = OptionKinds.PositiveInt("--output-tpm", "Output tokens (max_tokens) per minute, for Anthropic /v1/messages only (default: unlimited).");
        var concurrency = OptionKinds.PositiveInt("--concurrency", "Requests admitted and not yet answered, at most (default: unlimited).");
        var burst = OptionKinds.Duration("--burst", Defaults.Limits.Burst,
            "How much of each per-minute budget may be spent at once: a bucket holds budget x burst / 1m, at least 1.");
        var latency = OptionKinds.Duration("--latency", Defaults.Latency, "Time before each admitted request is answered (before the first event of a stream).");
        var jitter = OptionKinds.Duration("--jitter", Defaults.LatencyJitter, "Uniform random spread of --latency, plus or minus (seeded).");
        var tokenLatency = OptionKinds.Duration("--token-latency", Defaults.TimePerOutputToken, "Extra time per output token; streams send one token per event at this pace.");
        var noHeaders = new Option<bool>("--no-rate-limit-headers")
        {
            Description = "Send no x-ratelimit-* / anthropic-ratelimit-* headers, as some providers and gateways do.",
        };
        var defaultMaxTokens = OptionKinds.PositiveInt("--default-max-tokens", "Output cap charged to --tpm when a request names none.", Defaults.DefaultMaxOutputTokens);
        var replyTokens = OptionKinds.PositiveInt("--reply-tokens", "Length of each reply in tokens, before the request's output cap cuts it.", Defaults.ReplyTokens);
        var models = new Option<string[]>("--model")
        {
            Description = "Add a model name to the known list (repeatable); unknown models get the provider's 404.",
            HelpName = "NAME",
            AllowMultipleArgumentsPerToken = false,
            Arity = ArgumentArity.ZeroOrMore,
        };
        var anyModel = new Option<bool>("--any-model") { Description = "Accept any model name." };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed for faults, jitter and ids: the same seed and request order repeat a run.",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
        };
        var auditWindow = OptionKinds.Duration("--audit-window", Defaults.AuditWindow, "Length of the sliding windows in which the budget audit checks admissions.");
        var fault500 = OptionKinds.Rate("--fault-500", "Share of admitted requests answered 500 server_error.");
        var fault502 = OptionKinds.Rate("--fault-502", "Share of admitted requests answered 502 with a gateway's HTML body.");
        var fault503 = OptionKinds.Rate("--fault-503", "Share of admitted requests answered 503.");
        var fault529 = OptionKinds.Rate("--fault-529", "Share of admitted /v1/messages requests answered 529 overloaded_error.");
        var faultReset = OptionKinds.Rate("--fault-reset", "Share of admitted requests whose connection is aborted without an answer.");
        var faultHang = OptionKinds.Rate("--fault-hang", "Share of admitted requests never answered, until the client gives up.");
        var faultMalformed = OptionKinds.Rate("--fault-malformed", "Share of admitted requests answered 200 with a truncated, invalid JSON body (or stream event).");
        var faultStreamCut = OptionKinds.Rate("--fault-stream-cut", "Share of admitted streams that end halfway, before data: [DONE] / message_stop.");
        var authAfter = OptionKinds.NonNegativeInt("--fault-auth-after", "Each credential serves N requests, then gets 401 until a request brings a different key.");
        var quotaAfter = OptionKinds.NonNegativeInt("--fault-quota-after", "Serve N requests, then answer 429 insufficient_quota (Anthropic: 402 billing_error).");
        var contextLimit = OptionKinds.NonNegativeInt("--context-limit", "Answer 400 context_length_exceeded to prompts estimated above N tokens.");
        var batchTime = OptionKinds.Duration("--batch-time", Defaults.BatchProcessingTime,
            "Batch APIs: how long a batch takes from creation to its end, its lines answered evenly in between (the time compression: a real batch takes hours).");
        var batchWindow = OptionKinds.LongDuration("--batch-window", Defaults.BatchCompletionWindow,
            "Batch APIs: the completion window; lines not answered by then end as expired. Set it below --batch-time to make batches expire.");
        var batchFail = OptionKinds.Rate("--batch-fail", "Batch APIs: share of batch lines that fail with a 500 server_error (seeded).");
        var maxBatchRequests = OptionKinds.PositiveInt("--max-batch-requests", "Batch APIs: lines per OpenAI batch file, at most.", Defaults.MaxBatchRequests);
        var maxBatchBytes = OptionKinds.ByteSize("--max-batch-bytes", Defaults.MaxBatchFileBytes, "Batch APIs: bytes per OpenAI batch file, at most.");
        var maxEnqueued = OptionKinds.PositiveInt("--max-enqueued-tokens",
            "Batch APIs: OpenAI's enqueued-token limit per model; a batch that would pass it fails with token_limit_exceeded (default: unlimited).");
        var maxBatches = OptionKinds.PositiveInt("--max-batches", "Batch APIs: batches held at once, over both providers.", Defaults.MaxBatches);

        var command = new Command(
            "mock",
            "Run a rate-limited OpenAI- and Anthropic-compatible simulator: /v1/chat/completions, /v1/embeddings, " +
            "/v1/responses and /v1/messages with real rate-limit headers, seeded faults, and statistics at /mock/stats; " +
            "and both providers' Batch APIs (/v1/files, /v1/batches, /v1/messages/batches) with time compressed by --batch-time.");
        foreach (var option in new Option[]
                 {
                     listen, allowRemote, apiRoot, rpm, tpm, inputTpm, outputTpm, concurrency, burst, latency, jitter, tokenLatency,
                     noHeaders, defaultMaxTokens, replyTokens, models, anyModel, seed, auditWindow,
                     fault500, fault502, fault503, fault529, faultReset, faultHang, faultMalformed, faultStreamCut,
                     authAfter, quotaAfter, contextLimit,
                     batchTime, batchWindow, batchFail, maxBatchRequests, maxBatchBytes, maxEnqueued, maxBatches,
                 })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var endPoint = parseResult.GetValue(listen) ?? DefaultListen;
            var options = new MockOptions
            {
                ListenAddress = endPoint.Address,
                Port = endPoint.Port,
                AllowNonLoopback = parseResult.GetValue(allowRemote),
                ApiRoot = parseResult.GetValue(apiRoot) ?? Defaults.ApiRoot,
                Limits = new MockLimits
                {
                    RequestsPerMinute = parseResult.GetValue(rpm),
                    TokensPerMinute = parseResult.GetValue(tpm),
                    InputTokensPerMinute = parseResult.GetValue(inputTpm),
                    OutputTokensPerMinute = parseResult.GetValue(outputTpm),
                    MaxConcurrency = parseResult.GetValue(concurrency),
                    Burst = parseResult.GetValue(burst) ?? Defaults.Limits.Burst,
                },
                Faults = new MockFaults
                {
                    InternalServerErrorRate = parseResult.GetValue(fault500),
                    BadGatewayRate = parseResult.GetValue(fault502),
                    ServiceUnavailableRate = parseResult.GetValue(fault503),
                    OverloadedRate = parseResult.GetValue(fault529),
                    ConnectionResetRate = parseResult.GetValue(faultReset),
                    HangRate = parseResult.GetValue(faultHang),
                    MalformedBodyRate = parseResult.GetValue(faultMalformed),
                    StreamCutRate = parseResult.GetValue(faultStreamCut),
                    AuthExpiresAfterRequests = parseResult.GetValue(authAfter),
                    QuotaExhaustedAfterRequests = parseResult.GetValue(quotaAfter),
                    ContextLengthLimit = parseResult.GetValue(contextLimit),
                },
                RateLimitHeaders = !parseResult.GetValue(noHeaders),
                Latency = parseResult.GetValue(latency) ?? Defaults.Latency,
                LatencyJitter = parseResult.GetValue(jitter) ?? Defaults.LatencyJitter,
                TimePerOutputToken = parseResult.GetValue(tokenLatency) ?? Defaults.TimePerOutputToken,
                DefaultMaxOutputTokens = parseResult.GetValue(defaultMaxTokens) ?? Defaults.DefaultMaxOutputTokens,
                ReplyTokens = parseResult.GetValue(replyTokens) ?? Defaults.ReplyTokens,
                AcceptAnyModel = parseResult.GetValue(anyModel),
                Seed = parseResult.GetValue(seed),
                AuditWindow = parseResult.GetValue(auditWindow) ?? Defaults.AuditWindow,
                BatchProcessingTime = parseResult.GetValue(batchTime) ?? Defaults.BatchProcessingTime,
                BatchCompletionWindow = parseResult.GetValue(batchWindow) ?? Defaults.BatchCompletionWindow,
                BatchLineFailureRate = parseResult.GetValue(batchFail),
                MaxBatchRequests = parseResult.GetValue(maxBatchRequests) ?? Defaults.MaxBatchRequests,
                MaxBatchFileBytes = parseResult.GetValue(maxBatchBytes) ?? Defaults.MaxBatchFileBytes,
                MaxEnqueuedTokens = parseResult.GetValue(maxEnqueued),
                MaxBatches = parseResult.GetValue(maxBatches) ?? Defaults.MaxBatches,
            };
            foreach (var model in parseResult.GetValue(models) ?? [])
            {
                options.Models.Add(model);
            }

            if (!IPAddress.IsLoopback(endPoint.Address))
            {
                if (!options.AllowNonLoopback)
                {
                    await error.WriteLineAsync($"sluice mock: {endPoint} is not a loopback address; add --allow-remote to listen on it.").ConfigureAwait(false);
                    return SluiceCommandLine.UsageError;
                }

                await error.WriteLineAsync($"warning: sluice mock listens on {endPoint}, reachable from other machines, with no authentication.").ConfigureAwait(false);
            }

            MockServer server;
            try
            {
                server = await MockServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (OptionsValidationException e)
            {
                foreach (var failure in e.Failures)
                {
                    await error.WriteLineAsync($"sluice mock: {failure}").ConfigureAwait(false);
                }

                return SluiceCommandLine.UsageError;
            }
            catch (IOException e)
            {
                await error.WriteLineAsync($"sluice mock: cannot listen on {endPoint}: {e.Message}").ConfigureAwait(false);
                return ExitCodes.SluiceFailed;
            }

            await using (server.ConfigureAwait(false))
            {
                await output.WriteLineAsync($"sluice mock listening on {server.BaseUrl} (OpenAI base URL {server.BaseUrl}{options.ApiRoot.Trim('/')})").ConfigureAwait(false);
                await output.WriteLineAsync($"limits: {Describe(options.Limits)}; statistics: GET {server.BaseUrl}mock/stats. Press Ctrl-C to stop.").ConfigureAwait(false);
                // Ctrl-C and SIGTERM stop the mock here, whether or not the root invocation watches for them.
                using var signals = StopSignals.Listen();
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Stopping);
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await output.WriteLineAsync("sluice mock: stopping").ConfigureAwait(false);
                }
            }

            return 0;
        });
        return command;
    }

    private static string Describe(MockLimits limits)
    {
        var parts = new List<string>();
        Add("rpm", limits.RequestsPerMinute);
        Add("tpm", limits.TokensPerMinute);
        Add("input-tpm", limits.InputTokensPerMinute);
        Add("output-tpm", limits.OutputTokensPerMinute);
        Add("concurrency", limits.MaxConcurrency);
        return parts.Count == 0 ? "none" : string.Join(' ', parts) + " burst " + DurationText.Format(limits.Burst);

        void Add(string name, int? value)
        {
            if (value is int v)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {v}"));
            }
        }
    }
}
