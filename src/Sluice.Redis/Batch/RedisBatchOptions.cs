using System.Globalization;
using System.Text;

namespace Sluice.Redis.Batch;

/// <summary>Where a shared batch lives in Redis, and how its workers take, keep and give back lines.</summary>
public sealed class RedisBatchOptions
{
    /// <summary>The longest batch name: names are part of every key.</summary>
    public const int MaxNameLength = 100;

    /// <summary>
    /// Where Redis is: a StackExchange.Redis configuration string (<c>host:port,password=…</c>) or a <c>redis://</c> /
    /// <c>rediss://</c> URL. It may hold a password, so it is never logged or shown; see
    /// <see cref="Connection.RedisConnection.Describe"/>.
    /// </summary>
    public string Configuration { get; set; } = "";

    /// <summary>The prefix of every key, so unrelated deployments can share one Redis.</summary>
    /// <value>Defaults to <c>sluice</c>.</value>
    public string KeyPrefix { get; set; } = "sluice";

    /// <summary>The batch's name, shared by every worker on it: 1 to 100 characters of <c>A–Z a–z 0–9 . _ -</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>This worker's name in the consumer group; unique among the batch's workers.</summary>
    /// <value>Defaults to the machine name, the process id and 8 random hex digits.</value>
    public string? Worker { get; set; }

    /// <summary>
    /// How long a line may sit taken by a worker without a sign of life before another worker takes it over
    /// (<c>XAUTOCLAIM</c>). A live worker renews its lines every <see cref="RefreshInterval"/>, so only a dead or cut-off
    /// worker's lines are taken; a killed worker's lines are finished by the others this long after its last renewal.
    /// </summary>
    /// <value>Defaults to 60 seconds.</value>
    public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a worker renews the lines it holds (<c>XCLAIM … JUSTID</c>); at most a third of <see cref="ClaimIdleTime"/>.</summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a worker with nothing to take waits before asking again (Redis Streams reads do not block here).</summary>
    /// <value>Defaults to 250 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the batch's keys outlive their last use, so a forgotten batch does not hold Redis's memory for ever.</summary>
    /// <value>Defaults to 7 days.</value>
    public TimeSpan KeepFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long one Redis call may take before it fails.</summary>
    /// <value>Defaults to 5 seconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether <paramref name="name"/> is a valid batch name.</summary>
    /// <param name="name">The name to check.</param>
    /// <returns>True when it is 1 to 100 characters of letters, digits, dot, underscore and dash.</returns>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>A copy, checked: every problem in one exception.</summary>
    internal RedisBatchOptions Validated()
    {
        var problems = new StringBuilder();
        void Problem(string text) => problems.Append(problems.Length == 0 ? "" : "; ").Append(text);
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            Problem("Configuration is required");
        }

        if (!IsValidName(Name))
        {
            Problem($"Name must be 1 to {MaxNameLength} characters of A-Z a-z 0-9 . _ -");
        }

        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.Length > 100)
        {
            Problem("KeyPrefix must be 1 to 100 characters");
        }

        if (Worker is { } worker && (worker.Length is 0 or > 200 || worker.Any(char.IsControl)))
        {
            Problem("Worker must be 1 to 200 characters without control characters");
        }

        if (ClaimIdleTime < TimeSpan.FromMilliseconds(10) || ClaimIdleTime > TimeSpan.FromDays(1))
        {
            Problem("ClaimIdleTime must be from 10 ms to 1 day");
        }

        if (RefreshInterval <= TimeSpan.Zero || RefreshInterval * 3 > ClaimIdleTime)
        {
            Problem("RefreshInterval must be more than 0 and at most a third of ClaimIdleTime");
        }

        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromMinutes(1))
        {
            Problem("PollInterval must be more than 0 and at most 1 minute");
        }

        if (KeepFor < TimeSpan.FromMinutes(1) || KeepFor > TimeSpan.FromDays(365))
        {
            Problem("KeepFor must be from 1 minute to 365 days");
        }

        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromMinutes(5))
        {
            Problem("OperationTimeout must be more than 0 and at most 5 minutes");
        }

        if (problems.Length > 0)
        {
            throw new ArgumentException($"Invalid RedisBatchOptions: {problems}.");
        }

        return new RedisBatchOptions
        {
            Configuration = Configuration,
            KeyPrefix = KeyPrefix,
            Name = Name,
            Worker = Worker ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"),
            ClaimIdleTime = ClaimIdleTime,
            RefreshInterval = RefreshInterval,
            PollInterval = PollInterval,
            KeepFor = KeepFor,
            OperationTimeout = OperationTimeout,
        };
    }
}
