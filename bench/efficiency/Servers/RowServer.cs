using Sluice.Efficiency.Scenarios;

namespace Sluice.Efficiency.Servers;

/// <summary>What the limiter itself counted during a row.</summary>
/// <param name="Attempts">Requests it received on its API paths: every attempt that reached it.</param>
/// <param name="Throttled">Attempts it refused with a 429.</param>
/// <param name="Violations">Admissions beyond its budget by its own audit, or null when it keeps none (nginx).</param>
internal sealed record ServerCount(long Attempts, long Throttled, long? Violations);

/// <summary>
/// The limiter a row runs against, fresh for every row on 127.0.0.1 and an OS-picked port, so rows cannot contaminate
/// each other: <c>sluice mock</c> in-process, or nginx <c>limit_req</c> as a child process. Disposing it stops it.
/// </summary>
internal abstract class RowServer : IAsyncDisposable
{
    public abstract Uri BaseUrl { get; }

    /// <summary>Starts the limiter of <paramref name="scenario"/> with its first budget step.</summary>
    public static async Task<RowServer> StartAsync(Scenario scenario, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return scenario.Nginx is null
            ? await MockRowServer.StartAsync(scenario, seed, cancellationToken).ConfigureAwait(false)
            : await NginxRowServer.StartAsync(scenario, seed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Changes the budget to a later step of the scenario's schedule.</summary>
    public abstract Task ApplyAsync(BudgetStep step, CancellationToken cancellationToken);

    /// <summary>What the limiter counted so far.</summary>
    public abstract ServerCount Count();

    public abstract ValueTask DisposeAsync();
}
