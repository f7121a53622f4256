using System.Globalization;
using Sluice.Dispatch;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Engine;

/// <summary>
/// Spend (docs/spend.md): each try reserves its worst case in every cap that applies before it is sent, and settles
/// to what it really cost when its answer ends.
/// </summary>
public sealed partial class SluiceEngine
{
    private readonly SpendBook _spend;

    /// <summary>The engine's money: caps per partition, unpriced models; for tests.</summary>
    internal SpendBook SpendBook => _spend;

    /// <summary>The prices this engine reads: <see cref="Http.SluiceHandlerOptions.Prices"/>, else the shipped ones.</summary>
    public PriceTable Prices => _spend.Prices;

    /// <summary>
    /// A request's worst case at its model's list price: its prompt estimate (<see cref="SluiceRequest.EstimatedInputTokens"/>)
    /// and its output cap (<see cref="SluiceRequest.EstimatedOutputTokens"/>: the body's <c>max_tokens</c>,
    /// <c>max_completion_tokens</c> or <c>max_output_tokens</c> times <c>n</c>, or 1,024 tokens when it states none). What
    /// each try of it reserves in a spend cap; for <c>--dry-run</c> and projections.
    /// </summary>
    /// <param name="request">The captured request.</param>
    /// <returns>US dollars, or <see langword="null"/> when its model has no price (said once per model in the log).</returns>
    public decimal? EstimateCost(SluiceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _spend.PriceOf(PricedModelOf(request)) is { } price ? WorstCaseOf(price, request) : null;
    }

    /// <summary>What a request's reported usage costs at its model's list price; for "saved" figures (a cache hit).</summary>
    /// <param name="request">The captured request, whose model is priced.</param>
    /// <param name="usage">The usage an answer reported; cached input tokens are priced at the cached rate.</param>
    /// <returns>US dollars, or <see langword="null"/> when the model has no price or the usage reports no tokens.</returns>
    public decimal? CostOf(SluiceRequest request, TokenUsage usage)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _spend.PriceOf(PricedModelOf(request)) is { } price ? _spend.CostOf(price, usage) : null;
    }

    /// <summary>
    /// The model a request is priced as: its body's, else for Azure OpenAI its deployment's name (Azure bodies often
    /// name no model, and deployments are usually named after theirs; a name the table does not list has no price).
    /// </summary>
    private string? PricedModelOf(SluiceRequest request) =>
        request.Model ?? (Provider == ProviderKind.AzureOpenAI ? ApiEndpoints.AzureDeployment(request.Template.RequestUri?.IsAbsoluteUri == true ? request.Template.RequestUri.AbsolutePath : request.Template.RequestUri?.OriginalString) : null);

    private static decimal WorstCaseOf(ModelPrice price, SluiceRequest request) =>
        price.CostOf(request.EstimatedInputTokens, request.EstimatedOutputTokens);

    /// <summary>The spend of one job, made as it starts: its model's price and a try's worst case, looked up once.</summary>
    private JobSpend BeginSpend(SluiceRequest request)
    {
        var price = _spend.PriceOf(PricedModelOf(request));
        return new JobSpend(price, price is null ? null : WorstCaseOf(price, request));
    }

    /// <summary>
    /// Reserves a try's worst case in the partition's daily cap and in every cap the face gave. A refusal releases what
    /// was reserved and returns the outcome that ends the job <see cref="JobEndReason.SpendCapReached"/>, unsent.
    /// </summary>
    private AttemptOutcome<ProviderReply>? ReserveSpend(JobSpend job, SluiceRequest request, SluiceSendOptions? options, out TrySpend spend)
    {
        string partition = request.Partition;
        var partitionCap = _spend.PartitionCap(partition);
        if (partitionCap is null && options?.SpendCaps is not { Count: > 0 })
        {
            // No cap: most tries, on the dispatch path; nothing to reserve, only the cost to count once it is known.
            spend = new TrySpend(job, job.WorstCase, [], cost => _spend.Spent(partition, cost));
            return null;
        }

        var caps = new List<SpendCap>(1 + (options?.SpendCaps?.Count ?? 0));
        if (partitionCap is not null)
        {
            caps.Add(partitionCap);
        }

        if (options?.SpendCaps is { } given)
        {
            caps.AddRange(given);
        }

        string? refusal = null;
        var reservations = new List<SpendReservation>(caps.Count);

        // A request without a body (listing models, fetching a file) runs no model and is not held by a cap.
        if (caps.Count > 0 && job.WorstCase is null && request.HasContent)
        {
            refusal = PricedModelOf(request) is { } model
                ? $"spend cap: model '{model}' has no price for {Provider} in the price table (as of {Prices.AsOf:yyyy-MM-dd}), so its cost cannot be kept under a cap; add it with a prices file (SluiceHandlerOptions.Prices, --prices; see docs/spend.md)"
                : "spend cap: the request names no model, so its cost cannot be kept under a cap";
        }
        else if (job.WorstCase is { } amount)
        {
            foreach (var cap in caps)
            {
                if (!cap.TryReserve(amount, out var reservation))
                {
                    var now = cap.GetSnapshot();
                    refusal = string.Create(
                        CultureInfo.InvariantCulture,
                        $"{cap.Name ?? (cap.Window == SpendWindow.Day ? "daily spend cap" : "spend cap")} reached: ${now.Settled:0.00####} spent and ${now.Reserved:0.00####} reserved of ${cap.Limit:0.00####}{(cap.Window == SpendWindow.Day ? FormattableString.Invariant($" today (resets {now.ResetsAt:yyyy-MM-dd HH:mm} UTC)") : string.Empty)}; this request's worst case is ${amount:0.00####} ({request.EstimatedInputTokens} input tokens estimated, {request.EstimatedOutputTokens} output at most)");
                    break;
                }

                reservations.Add(reservation);
            }
        }

        if (refusal is not null)
        {
            foreach (var reservation in reservations)
            {
                reservation.Release();
            }

            spend = new TrySpend(job, null, [], null);
            _spend.Refused(request.Id, refusal);
            return new AttemptOutcome<ProviderReply>
            {
                Kind = AttemptOutcomeKind.Permanent,
                SpendCapReached = true,
                Error = refusal,

                // Nothing was sent: the gate's token reservation is given back whole.
                ActualTokens = 0,
                ActualInputTokens = 0,
                ActualOutputTokens = 0,
            };
        }

        spend = new TrySpend(job, job.WorstCase, reservations, cost => _spend.Spent(partition, cost));
        return null;
    }

    /// <summary>
    /// Settles a try by its outcome: a success with usage at its real cost (a stream when it ends, see
    /// <see cref="StreamSpend"/>), an answer the provider refused or failed at nothing, a try that got no answer at its
    /// worst case (the provider may have done the work) unless it never connected.
    /// </summary>
    private void SettleSpend(TrySpend spend, AttemptOutcome<ProviderReply> outcome)
    {
        if (outcome.Value is { } reply)
        {
            if (outcome.Kind != AttemptOutcomeKind.Success)
            {
                spend.Settle(0);
            }
            else if (reply.Message.Content is not WatchedStreamContent)
            {
                spend.Settle(spend.Job.Price is { } price ? _spend.CostOf(price, reply.Usage) : null);
            }

            return;
        }

        if (outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
        {
            // Never reached the provider: nothing to pay for.
            spend.Settle(0);
            return;
        }

        spend.KeepWorstCase();
    }

    /// <summary>What a streamed answer settles to when it ends: its usage once it ended whole, else its worst case.</summary>
    private Action<TokenUsage, bool> StreamSpend(TrySpend spend) => (usage, whole) =>
        spend.Settle(whole && spend.Job.Price is { } price ? _spend.CostOf(price, usage) : null);
}
