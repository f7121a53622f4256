namespace Sluice.Gate;

/// <summary>
/// Who a request is for, inside a partition: the partition's budget is shared among its tenants by weighted fair
/// queuing, and a tenant may have limits of its own. Tenants are told apart by <see cref="Name"/>: the first one a
/// partition sees with a name sets its weight and limits until the partition forgets it, and a later one with other
/// values replaces them.
/// </summary>
/// <param name="Name">1 to 64 printable characters.</param>
public sealed record GateTenant(string Name)
{
    /// <summary>The longest tenant name.</summary>
    internal const int MaxNameLength = 64;

    /// <summary>The largest weight.</summary>
    internal const double MaxWeight = 1000;

    /// <summary>The tenant of a request that names none.</summary>
    internal static readonly GateTenant Default = new("default");

    private readonly string _name = Validated(Name);
    private readonly double _weight = 1;

    /// <summary>The tenant's name: 1 to 64 printable characters.</summary>
    /// <exception cref="ArgumentException">The name is empty, longer than 64 characters, or holds a control character.</exception>
    public string Name
    {
        get => _name;
        init => _name = Validated(value);
    }

    /// <summary>
    /// The tenant's share of the partition's budget relative to the other tenants waiting: weights 3 and 1, both busy,
    /// get 75% and 25%.
    /// </summary>
    /// <value>Defaults to 1; above 0 and at most 1000.</value>
    /// <exception cref="ArgumentOutOfRangeException">The weight is not above 0 and at most 1000.</exception>
    public double Weight
    {
        get => _weight;
        init
        {
            if (!(value > 0 && value <= MaxWeight))
            {
                throw new ArgumentOutOfRangeException(nameof(Weight), value, "A tenant's weight must be above 0 and at most 1000.");
            }

            _weight = value;
        }
    }

    /// <summary>The tenant's own limits, applied on top of the partition's; they hold back this tenant only.</summary>
    /// <value>Defaults to <see langword="null"/>: no limits of its own.</value>
    public TenantLimits? Limits { get; init; }

    private static string Validated(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxNameLength)
        {
            throw new ArgumentException($"A tenant name has at most {MaxNameLength} characters; this one has {name.Length}.", nameof(name));
        }

        foreach (char c in name)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException("A tenant name holds printable characters only.", nameof(name));
            }
        }

        return name;
    }
}
