namespace Sluice.Mock.Faults;

/// <summary>
/// Draws at most one random fault per admitted request from a seeded generator. One uniform draw is split
/// into consecutive ranges, one per fault, so each fault hits exactly its configured share and the same
/// seed with the same order of requests hits the same requests.
/// </summary>
internal sealed class FaultDraw
{
    private readonly Lock _lock = new();
    private readonly (FaultKind Kind, double Rate)[] _ranges;
    private readonly int _seed;
    private Random _random;

    public FaultDraw(MockFaults faults, int seed)
    {
        _seed = seed;
        _random = new Random(seed);
        _ranges =
        [
            (FaultKind.InternalServerError, faults.InternalServerErrorRate),
            (FaultKind.BadGateway, faults.BadGatewayRate),
            (FaultKind.ServiceUnavailable, faults.ServiceUnavailableRate),
            (FaultKind.Overloaded, faults.OverloadedRate),
            (FaultKind.ConnectionReset, faults.ConnectionResetRate),
            (FaultKind.Hang, faults.HangRate),
            (FaultKind.MalformedBody, faults.MalformedBodyRate),
            (FaultKind.StreamCut, faults.StreamCutRate),
        ];
    }

    /// <summary>
    /// The fault for the next admitted request. Every request consumes one draw, even where its fault does not
    /// apply (529 outside <c>/v1/messages</c>, a stream cut without a stream), so which requests fail does not
    /// depend on the mix of endpoints.
    /// </summary>
    public FaultKind Next(bool anthropic, bool stream)
    {
        double draw;
        lock (_lock)
        {
            draw = _random.NextDouble();
        }

        var edge = 0.0;
        foreach (var (kind, rate) in _ranges)
        {
            edge += rate;
            if (draw < edge)
            {
                return kind switch
                {
                    FaultKind.Overloaded when !anthropic => FaultKind.None,
                    FaultKind.StreamCut when !stream => FaultKind.None,
                    _ => kind,
                };
            }
        }

        return FaultKind.None;
    }

    /// <summary>Starts the sequence again, so a run after <c>POST /mock/reset</c> repeats the first.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _random = new Random(_seed);
        }
    }
}
