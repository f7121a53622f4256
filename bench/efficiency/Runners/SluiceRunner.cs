using Sluice.Gate;
using Sluice.Http;
using Sluice.Providers;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// Sluice as a user puts it under an <see cref="HttpClient"/>: a <see cref="SluiceHandler"/> (docs/handler.md, "Plain
/// HttpClient"), every request of the batch fired at once as a concurrent task, the handler pacing and retrying.
/// </summary>
internal abstract class SluiceRunner : Runner
{
    public override bool IsSluice => true;

    public override async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = Configure(context);
        if (context.Scenario.SluiceAttemptTimeout is { } attemptTimeout)
        {
            options.Retry.AttemptTimeout = attemptTimeout;
        }

        using var handler = new SluiceHandler(options, random: new Random(context.Seed))
        {
            InnerHandler = new AttemptCounter(context.Tally) { InnerHandler = new SocketsHttpHandler() },
        };
        using var http = new HttpClient(handler) { BaseAddress = context.BaseUrl, Timeout = Timeout.InfiniteTimeSpan };
        var bodies = context.Workload.Bodies;
        await Task.WhenAll(Enumerable.Range(0, bodies.Count).Select(i => SendAsync(http, bodies[i], i, context.Tally, cancellationToken)))
            .ConfigureAwait(false);
    }

    /// <summary>The handler's options for this row.</summary>
    protected abstract SluiceHandlerOptions Configure(RunContext context);

    private static async Task SendAsync(HttpClient http, byte[] body, int index, ClientTally tally, CancellationToken cancellationToken)
    {
        try
        {
            using var request = Replies.Request(body, index);
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            tally.CountEnd(await Replies.ProblemAsync(response, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Sluice gave up on the request (its message names why), or a timeout reached the caller: lost.
            tally.CountEnd(Replies.Problem(exception));
        }
    }
}

/// <summary>Sluice told the scenario's starting budgets, as a user who knows their account's RPM and TPM.</summary>
internal sealed class SluiceWithBudgetRunner : SluiceRunner
{
    public override string Key => "sluice-budget";

    public override string DisplayName => "Sluice (budget given)";

    public override bool KnowsBudget => true;

    protected override SluiceHandlerOptions Configure(RunContext context)
    {
        var budget = context.Scenario.InitialBudget;
        return new SluiceHandlerOptions
        {
            Provider = ProviderKind.OpenAI,
            DefaultLimits = new PartitionLimits
            {
                RequestsPerWindow = budget.RequestsPerMinute,
                TokensPerWindow = budget.TokensPerMinute,
            },
        };
    }
}

/// <summary>Sluice told nothing about the budget: what it learns from the provider's answers is all it has.</summary>
internal sealed class SluiceWithoutBudgetRunner : SluiceRunner
{
    public override string Key => "sluice-no-budget";

    public override string DisplayName => "Sluice (no budget)";

    protected override SluiceHandlerOptions Configure(RunContext context) => WithoutBudget();

    /// <summary>
    /// The one place this row's configuration lives: Sluice's defaults and nothing else. The partition adopts the
    /// budgets the rate-limit headers state, learns a request rate from the spacing of 429s where no header states one,
    /// and learns its concurrency limit up to the default ceiling of 32 (docs/adaptive.md).
    /// </summary>
    internal static SluiceHandlerOptions WithoutBudget() => new()
    {
        Provider = ProviderKind.OpenAI,
        DefaultLimits = new PartitionLimits(),
    };
}
