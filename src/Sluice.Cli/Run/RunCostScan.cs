using System.Net.Http.Headers;
using Sluice.Engine;
using Sluice.Http;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.Run;

/// <summary>
/// One pass over a validated batch file that prices it before anything is sent: each line is captured by an engine,
/// as the run would capture it, so its token estimate (prompt estimate and output cap) is the one the gate and the
/// spend cap will reserve, and its worst case is <see cref="SluiceEngine.EstimateCost"/>. Used by <c>--dry-run</c>, and
/// by <c>--max-spend</c> to refuse a model without a price before the first request. Nothing is sent.
/// </summary>
internal sealed class RunCostScan
{
    private readonly SortedDictionary<string, ModelEstimate> _models = new(StringComparer.Ordinal);

    /// <summary>The name under which lines without a <c>model</c> are counted.</summary>
    public const string NoModel = "(no model)";

    /// <summary>Per model (by name, in order): its lines and their estimates.</summary>
    public IReadOnlyDictionary<string, ModelEstimate> Models => _models;

    /// <summary>Lines scanned.</summary>
    public long Lines { get; private set; }

    /// <summary>The worst case of every priced line; lines of models without a price add nothing.</summary>
    public decimal WorstCase { get; private set; }

    /// <summary>
    /// The worst case of every priced line at the providers' batch prices (a model listed without batch prices counts at
    /// its live price): what <c>--via batch-api</c> would cost at most, set against <see cref="WorstCase"/> by
    /// <c>--via auto</c>.
    /// </summary>
    public decimal BatchWorstCase { get; private set; }

    /// <summary>Whether every line's model has a price.</summary>
    public bool AllPriced => _models.Values.All(m => m.WorstCase is not null);

    /// <summary>Scans the lines of <paramref name="path"/> not in <paramref name="skip"/>.</summary>
    public static async Task<RunCostScan> ScanAsync(
        string path,
        RequestFile.Validation validation,
        IReadOnlySet<string> skip,
        ProviderKind provider,
        Uri baseUrl,
        PriceTable prices,
        CancellationToken cancellationToken)
    {
        var scan = new RunCostScan();
        using var engine = new SluiceEngine(new SluiceHandlerOptions { Provider = provider, Prices = prices });
        await foreach (var line in RequestFile.ReadAsync(path, validation, skip, cancellationToken).ConfigureAwait(false))
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, BaseUrl.Join(baseUrl, line.Url)) { Content = new ByteArrayContent([]) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var request = engine.Capture(message, line.Body, line.CustomId);
            decimal? batch = engine.Prices.TryFind(provider, request.Model, out var price)
                ? price.CostOf(request.EstimatedInputTokens, request.EstimatedOutputTokens, batch: true)
                : null;
            scan.Add(line.LineNumber, request.Model, request.EstimatedInputTokens, request.EstimatedOutputTokens, engine.EstimateCost(request), batch);
        }

        return scan;
    }

    private void Add(int lineNumber, string? model, long inputTokens, long outputTokens, decimal? worstCase, decimal? batchWorstCase)
    {
        if (worstCase is not null && batchWorstCase is { } batch)
        {
            BatchWorstCase += batch;
        }

        string name = model ?? NoModel;
        if (!_models.TryGetValue(name, out var estimate))
        {
            // Bounded by the file's distinct models; a file of a million distinct models is a million small rows.
            estimate = new ModelEstimate { FirstLine = lineNumber, WorstCase = worstCase is null ? null : 0m };
            _models.Add(name, estimate);
        }

        Lines++;
        estimate.Lines++;
        estimate.InputTokens += inputTokens;
        estimate.OutputTokens += outputTokens;
        if (worstCase is { } cost && estimate.WorstCase is { } sum)
        {
            estimate.WorstCase = sum + cost;
            WorstCase += cost;
        }
    }
}

/// <summary>One model's lines in a <see cref="RunCostScan"/>.</summary>
internal sealed class ModelEstimate
{
    /// <summary>The first line naming the model, to point at in a message.</summary>
    public required int FirstLine { get; init; }

    public long Lines { get; set; }

    /// <summary>The prompts' estimated tokens.</summary>
    public long InputTokens { get; set; }

    /// <summary>The output caps' tokens (<c>max_tokens</c>, or the provider's default when a line sets none).</summary>
    public long OutputTokens { get; set; }

    /// <summary>The lines' worst-case cost; null when the model has no price.</summary>
    public decimal? WorstCase { get; set; }
}
