namespace Sluice.Gate;

/// <summary>
/// A tenant's own limits inside a partition (<see cref="GateTenant.Limits"/>): they hold back that tenant alone while
/// the others go on, and apply on top of the partition's limits, never instead of them.
/// </summary>
public sealed record TenantLimits
{
    private readonly int? _maxConcurrency;
    private readonly double? _requestsPerMinute;
    private readonly double? _tokensPerMinute;

    /// <summary>The most of the tenant's requests in flight at once.</summary>
    /// <value>Defaults to <see langword="null"/>: only the partition's concurrency limit.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int? MaxConcurrency
    {
        get => _maxConcurrency;
        init
        {
            if (value is { } limit)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1, nameof(MaxConcurrency));
            }

            _maxConcurrency = value;
        }
    }

    /// <summary>The tenant's requests per minute, refilled continuously (a burst of a second's worth, at least one request).</summary>
    /// <value>Defaults to <see langword="null"/>: no request budget of its own.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a positive number.</exception>
    public double? RequestsPerMinute
    {
        get => _requestsPerMinute;
        init => _requestsPerMinute = Positive(value, nameof(RequestsPerMinute));
    }

    /// <summary>The tenant's tokens per minute (the admission estimates, corrected when leases settle; a burst of a second's worth).</summary>
    /// <value>Defaults to <see langword="null"/>: no token budget of its own.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a positive number.</exception>
    public double? TokensPerMinute
    {
        get => _tokensPerMinute;
        init => _tokensPerMinute = Positive(value, nameof(TokensPerMinute));
    }

    private static double? Positive(double? value, string name) =>
        value is { } rate && !(rate > 0 && double.IsFinite(rate))
            ? throw new ArgumentOutOfRangeException(name, rate, "A tenant's budget per minute must be a positive number.")
            : value;
}
