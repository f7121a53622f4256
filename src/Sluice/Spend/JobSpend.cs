namespace Sluice.Spend;

/// <summary>
/// What one request's tries cost, summed as each settles: the request's <c>SluiceResponse.Cost</c>. Tries may overlap
/// (a hedge) and a stream settles after the response is handed over, so the sum is read when asked for.
/// </summary>
internal sealed class JobSpend
{
    private readonly Lock _lock = new();
    private readonly bool _free;
    private decimal _settled;
    private decimal _open;

    /// <param name="price">The model's price; <see langword="null"/> when it has none, and the cost is unknown.</param>
    /// <param name="worstCase">One try's worst case: the prompt estimate and output cap, priced.</param>
    public JobSpend(ModelPrice? price, decimal? worstCase)
    {
        Price = price;
        WorstCase = worstCase;
    }

    private JobSpend()
    {
        _free = true;
    }

    /// <summary>A request that cost nothing whatever its model: answered without sending (a cache hit).</summary>
    public static JobSpend Free { get; } = new();

    public ModelPrice? Price { get; }

    public decimal? WorstCase { get; }

    /// <summary>
    /// What the tries cost: settled ones at what they settled to, tries still open (a stream being read) at their
    /// worst case. <see langword="null"/> when the model has no price.
    /// </summary>
    public decimal? Cost
    {
        get
        {
            if (_free)
            {
                return 0;
            }

            if (Price is null)
            {
                return null;
            }

            lock (_lock)
            {
                return _settled + _open;
            }
        }
    }

    /// <summary>A try holding its worst case, until it settles.</summary>
    public void Opened(decimal worstCase)
    {
        lock (_lock)
        {
            _open += worstCase;
        }
    }

    /// <summary>A try settled: its worst case leaves the open sum, its cost joins the settled one.</summary>
    public void Closed(decimal worstCase, decimal actual)
    {
        lock (_lock)
        {
            _open -= worstCase;
            _settled += actual;
        }
    }
}
