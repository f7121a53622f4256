namespace Sluice.Adaptive;

/// <summary>
/// The share of one provider budget this process may spend when other processes, which it knows nothing of, spend the
/// same budget (several <c>sluice run</c> workers, proxies or services on one API key, without Redis). Learned from the
/// provider's own count: its <c>remaining</c> and <c>reset</c> headers count every process's requests, so between two
/// answers the provider's budget fell by what <i>everyone</i> spent, while this process knows what <i>it</i> spent. Pure:
/// timestamps and amounts come in, a share in (0, 1] comes out; no clock, no lock.
/// </summary>
/// <remarks>
/// <para><b>The rule.</b> A provider budget is a bucket refilling at the stated rate <c>r</c> and holding
/// <c>C = remaining + reset·r</c> (the headers give both). Between two counts <c>Δt</c> apart, everyone spent
/// <c>r·Δt − Δremaining</c>, of which this process spent <c>own</c> (admitted, less what the provider refused). The
/// share that would make everyone's spending, at the same proportions, add up to the budget is
/// <c>own ÷ everyone</c>; it is aimed a little above or below that by how full the provider's bucket is,
/// <c>× (1 + <see cref="FillGain"/>·(remaining ÷ C − <see cref="TargetFill"/>))</c>, so that the processes together
/// keep the provider's bucket half full: never empty (a 429), never full (budget thrown away). A process whose part is
/// <see cref="AlonePart"/> or more is alone on the key and takes the whole budget, its bucket included. Each new
/// estimate moves the share at most <see cref="MaxStep"/>-fold and is blended with the old one (<see cref="Smoothing"/>).
/// Every process doing the same converges on shares adding up to one, without knowing how many there are.</para>
/// <para><b>A full provider bucket</b> (<see cref="RoomFill"/>) is budget going unspent, and a count over a span in which
/// it was full would read the refill it could not hold as spent: the share doubles instead, at most every
/// <see cref="RoomSpan"/>. When one process stops, the others take up its part within seconds.</para>
/// <para><b>The first count</b> of a bucket that refills within <see cref="FirstCountHorizon"/> already says something:
/// taking the bucket as full when this process first spent (the kindest guess), what is missing from it is everyone's
/// spending since, so a process joining a busy key sets its share at its first answer instead of spending a whole
/// budget of its own into the others.</para>
/// <para><b>A 429</b> (a new refusal event, not one of a burst refused together) says the estimate was too high: the
/// share is cut to <see cref="ThrottleCut"/> of itself at once, as AIMD does, and the dispatcher's throttle floor
/// pauses the partition meanwhile. A single process learns a share of one and runs at the full stated rate.</para>
/// </remarks>
internal sealed class PeerShare
{
    /// <summary>The smallest share: a process among a thousand still sends.</summary>
    public const double MinShare = 1.0 / 1024;

    /// <summary>How full the processes together keep the provider's bucket.</summary>
    public const double TargetFill = 0.5;

    /// <summary>How strongly the provider's fill steers the share: at an empty bucket, aim 25% under the estimate.</summary>
    public const double FillGain = 0.5;

    /// <summary>The part of everyone's spending above which this process counts as alone on the key.</summary>
    public const double AlonePart = 0.9;

    /// <summary>The weight of a new estimate against the share in force (geometric blend).</summary>
    public const double Smoothing = 0.5;

    /// <summary>The share kept on a 429.</summary>
    public const double ThrottleCut = 0.5;

    /// <summary>The most a single estimate moves the share, as a factor either way.</summary>
    public const double MaxStep = 2;

    /// <summary>How full the provider's bucket must be at a count for its budget to count as going unspent.</summary>
    public const double RoomFill = 0.9;

    /// <summary>The fewest units of its own spending that make a span measure (fewer, one more or less is noise).</summary>
    public const double MinOwn = 4;

    /// <summary>How many of its own spending records the share keeps to look back over a span; older ones are dropped.</summary>
    public const int HistoryLength = 1024;

    /// <summary>The longest full refill of the provider's bucket for which the first count sets a share.</summary>
    public static readonly TimeSpan FirstCountHorizon = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Spending closer together than this is recorded as one: the history then covers at least 20 s at any rate, past
    /// the latency of long answers, whose counts are that old when they arrive.
    /// </summary>
    public static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(20);

    /// <summary>The shortest span between two counts that measures.</summary>
    public static readonly TimeSpan MinSpan = TimeSpan.FromSeconds(1);

    /// <summary>The shortest span over which a bucket that stayed full doubles the share.</summary>
    public static readonly TimeSpan RoomSpan = TimeSpan.FromSeconds(0.5);

    /// <summary>A span this long measures even with fewer than <see cref="MinOwn"/> units spent.</summary>
    public static readonly TimeSpan LongSpan = TimeSpan.FromSeconds(4);

    private readonly double _ticksPerSecond;

    // Cumulative own spending, by the instant it was admitted: a ring of (instant, total so far), oldest first, grown
    // as needed up to HistoryLength (a partition that sends little keeps little). Spending within Granularity of the
    // newest record joins it.
    private readonly long _granularity;
    private long[] _at = new long[8];
    private double[] _total = new double[8];
    private int _first;
    private int _count;
    private bool _dropped;
    private double _spent;

    // The count the next span starts from: when the provider counted it, what it said remained, what we had spent by then.
    private long? _anchorAt;
    private double _anchorRemaining;
    private double _anchorFill;
    private double _anchorRate;
    private double _part = double.NaN;
    private double _anchorOwn;
    private long _lastCutAt = long.MinValue;

    // The provider bucket's size as read from counts whose reset was written to the second: the smallest read at the
    // stated rate in force (rounding only adds).
    private double _capacity;
    private double _capacityRate = double.NaN;

    /// <summary>Creates a share for timestamps that advance <paramref name="ticksPerSecond"/> per second.</summary>
    public PeerShare(long ticksPerSecond)
    {
        _ticksPerSecond = ticksPerSecond;
        _granularity = Math.Max(1, (long)(ticksPerSecond * Granularity.TotalSeconds));
    }

    /// <summary>The share of the provider's budget to spend, in [<see cref="MinShare"/>, 1]; 1 until learned otherwise.</summary>
    public double Share { get; private set; } = 1;

    /// <summary>True once the provider's count has been observed: only then does a 429 say anything about the share.</summary>
    public bool HasObserved => _anchorAt is not null;

    /// <summary>Counts <paramref name="amount"/> this process spent at <paramref name="now"/> (an admission).</summary>
    public void Spent(long now, double amount)
    {
        _spent += amount;
        if (_count > 0 && now - _at[Index(_count - 1)] < _granularity)
        {
            _total[Index(_count - 1)] = _spent;
            return;
        }

        if (_count == _at.Length)
        {
            if (_at.Length < HistoryLength)
            {
                Grow();
            }
            else
            {
                _first = (_first + 1) % _at.Length;
                _count--;
                _dropped = true;
            }
        }

        _at[Index(_count)] = now;
        _total[Index(_count)] = _spent;
        _count++;
    }

    /// <summary>
    /// The provider refused <paramref name="amount"/> this process had counted as spent: it is taken off at
    /// <paramref name="now"/> (the refusal comes back soon after the admission, so a span sees it nearly where it was).
    /// </summary>
    public void Refused(long now, double amount) => Spent(now, -amount);

    /// <summary>
    /// Takes the provider's count: <paramref name="remaining"/> left, its bucket full again in
    /// <paramref name="resetSeconds"/>, refilling at <paramref name="ratePerSecond"/>, as counted at
    /// <paramref name="countedAt"/> (the admission of the request whose answer said so). Returns true when the share
    /// changed.
    /// </summary>
    public bool Observe(long countedAt, double remaining, double resetSeconds, double ratePerSecond) =>
        Observe(countedAt, remaining, resetSeconds, ratePerSecond, resetToTheSecond: false);

    /// <summary>
    /// Takes the provider's count, as <see cref="Observe(long, double, double, double)"/>; <paramref name="resetToTheSecond"/>
    /// says the reset was written to the whole second (Anthropic's RFC 3339 instants), so it may be up to a second late.
    /// </summary>
    /// <remarks>
    /// A reset a second late puts a second's refill into the bucket's size: a bucket holding a second's worth reads as
    /// holding two, a full one as half empty, and the missing half as everyone else's spending (a lone proxy behind the
    /// mock learned a share of 0.06 and ran at a third of the budget). Rounding only ever adds, so the smallest size
    /// read since the stated rate last changed is the best one; and a single such count cannot say how full the
    /// bucket was at the start, so it sets no first share.
    /// </remarks>
    public bool Observe(long countedAt, double remaining, double resetSeconds, double ratePerSecond, bool resetToTheSecond)
    {
        if (remaining < 0 || resetSeconds < 0 || ratePerSecond <= 0 || double.IsNaN(remaining + resetSeconds + ratePerSecond))
        {
            return false;
        }

        double capacity = remaining + (resetSeconds * ratePerSecond);
        if (resetToTheSecond)
        {
            capacity = _capacityRate == ratePerSecond ? Math.Min(_capacity, capacity) : capacity;
            (_capacity, _capacityRate) = (capacity, ratePerSecond);
        }

        double fill = capacity > 0 ? Math.Clamp(remaining / capacity, 0, 1) : 0;
        if (_anchorAt is not { } from)
        {
            _anchorRate = ratePerSecond;
            // The first count: the provider's bucket is taken to have been full when this process first spent (the
            // kindest guess: if others had emptied it, everyone's spending reads higher and our share lower), so what
            // is missing from it now is everyone's spending since. This sets a share at the first answer, before a
            // process that joins a busy key spends a whole budget of its own into it.
            // Only for a bucket that refills in moments (a second's burst, as the mock and many gateways keep): one holding
            // a minute's worth may have been emptied long before.
            bool first = !resetToTheSecond && _count > 0 && _at[_first] <= countedAt && OwnAt(countedAt) is > 0
                && capacity <= ratePerSecond * FirstCountHorizon.TotalSeconds;
            double firstShare = Share;
            if (first)
            {
                double since = (countedAt - _at[_first]) / _ticksPerSecond;
                double spent = OwnAt(countedAt)!.Value;
                double everyone = Math.Max((ratePerSecond * since) + (capacity - remaining), spent);
                // A process alone has just spent its first wave out of the bucket, and is everyone: it keeps the budget.
                double part = spent / everyone;
                firstShare = Math.Clamp(part >= AlonePart ? 1 : part * (1 + (FillGain * (fill - TargetFill))), MinShare, 1);
            }

            Anchor(countedAt, remaining, fill);
            if (firstShare == Share)
            {
                return false;
            }

            Share = firstShare;
            return true;
        }

        if (ratePerSecond != _anchorRate)
        {
            // The stated limit changed within the span: the refill over it is unknown, so it measures nothing.
            Anchor(countedAt, remaining, fill);
            _anchorRate = ratePerSecond;
            return false;
        }

        if (countedAt <= from)
        {
            // An answer to an earlier request, overtaken by a later one: its count is older than the anchor's.
            return false;
        }

        double span = (countedAt - from) / _ticksPerSecond;
        if (OwnAt(countedAt) is not { } ownNow || double.IsNaN(_anchorOwn))
        {
            // A count older than the history kept: what we spent up to it is not known, so the span measures nothing.
            Anchor(countedAt, remaining, fill);
            return false;
        }

        double own = ownNow - _anchorOwn;
        // A bucket full now (or at both ends of the span) is budget going unspent; and a count of everyone's spending
        // over a span in which it was full would read the refill it could not hold as spent.
        bool room = fill >= RoomFill;
        if (span < (room ? RoomSpan : MinSpan).TotalSeconds || (!room && own < MinOwn && span < LongSpan.TotalSeconds))
        {
            return false;
        }

        double share;
        if (room)
        {
            // The provider's bucket is (nearly) full: its budget is going unspent. Whoever is still sending takes more, fast.
            share = Math.Min(1, Share * MaxStep);
        }
        else
        {
            // Everyone's spending over the span; never less than our own (the provider rounds what remains down).
            double everyone = Math.Max((ratePerSecond * span) - (remaining - _anchorRemaining), Math.Max(own, 1e-9));
            // Alone on the key (or nearly: the rest is noise in the count), the whole budget is ours and the provider's
            // bucket is ours to empty, as a single process always did; only among others is the fill aimed at half.
            // Whether alone is judged on the part averaged over spans: one count's rounding must not cost a lone process
            // a span at three quarters of its budget.
            double part = Math.Max(0, own) / everyone;
            _part = double.IsNaN(_part) ? part : (_part + part) / 2;
            double estimate = Math.Max(part, _part) >= AlonePart ? 1 : part * (1 + (FillGain * (fill - TargetFill)));
            if (_anchorFill >= RoomFill)
            {
                // Full when the span began, the bucket may have stayed full for part of it, refilling nothing: the
                // count of everyone's spending is then too high and our part too low. It may raise the share, not cut it.
                estimate = Math.Max(estimate, Share);
            }
            estimate = Math.Clamp(estimate, Share / MaxStep, Share * MaxStep);
            share = Math.Clamp(Math.Pow(Share, 1 - Smoothing) * Math.Pow(estimate, Smoothing), MinShare, 1);
        }

        Anchor(countedAt, remaining, fill);
        if (share == Share)
        {
            return false;
        }

        Share = share;
        return true;
    }

    /// <summary>
    /// A 429 to a request admitted at <paramref name="admittedAt"/>: a new refusal event cuts the share to
    /// <see cref="ThrottleCut"/> of itself; refusals of requests admitted before the last cut belong to it. Returns true
    /// when the share changed.
    /// </summary>
    public bool Throttled(long admittedAt, long now)
    {
        if (!HasObserved || admittedAt <= _lastCutAt)
        {
            return false;
        }

        _lastCutAt = now;
        double share = Math.Max(MinShare, Share * ThrottleCut);
        if (share == Share)
        {
            return false;
        }

        Share = share;
        return true;
    }

    private void Anchor(long at, double remaining, double fill)
    {
        _anchorFill = fill;
        _anchorAt = at;
        _anchorRemaining = remaining;
        _anchorOwn = OwnAt(at) ?? double.NaN;
    }

    /// <summary>What this process had spent by <paramref name="at"/>; null when that is older than the history kept.</summary>
    private double? OwnAt(long at)
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            if (_at[Index(i)] <= at)
            {
                return _total[Index(i)];
            }
        }

        // Before every record kept: nothing spent yet if nothing was ever dropped.
        return _dropped ? null : 0;
    }

    private int Index(int i) => (_first + i) % _at.Length;

    private void Grow()
    {
        var at = new long[_at.Length * 2];
        var total = new double[_at.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            at[i] = _at[Index(i)];
            total[i] = _total[Index(i)];
        }

        (_at, _total, _first) = (at, total, 0);
    }
}
