using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// Drives one partition on a fake clock with tenants that keep callers waiting: the clock moves in fixed steps, every
/// admission is recorded (when, whose, how many tokens) and its lease settled and released at once, and each busy
/// tenant's queue is topped up again. Everything runs on the test's thread: admissions happen inside Advance and Dispose.
/// </summary>
internal sealed class TenantRig : IDisposable
{
    private readonly List<Busy> _busy = [];

    public TenantRig(PartitionLimits limits, TimeSpan? priorityAging = null, int maxTenants = GateOptions.DefaultMaxTenants)
    {
        Time = new FakeTimeProvider(GateTestKit.Start);
        Gate = SluiceGate.Create(
            new GateOptions { DefaultLimits = limits, PriorityAging = priorityAging ?? GateOptions.DefaultPriorityAging, MaxTenants = maxTenants },
            Time);
        Partition = Gate.GetPartition("p");
    }

    public FakeTimeProvider Time { get; }

    public SluiceGate Gate { get; }

    public GatePartition Partition { get; }

    public List<Admission> Admissions { get; } = [];

    public double Now => (Time.GetUtcNow() - GateTestKit.Start).TotalSeconds;

    /// <summary>
    /// Keeps <paramref name="depth"/> callers of <paramref name="tenant"/> waiting from now until
    /// <paramref name="until"/> (seconds); each asks for <paramref name="tokens"/>() tokens and uses
    /// <paramref name="settle"/>(asked) of them.
    /// </summary>
    public void Keep(GateTenant? tenant, int depth, double until = double.MaxValue, Func<long>? tokens = null, Func<long, long>? settle = null, int priority = 0)
    {
        _busy.Add(new Busy(tenant, depth, until, tokens ?? (() => 0), settle, priority));
        Collect();
    }

    /// <summary>Moves the clock to <paramref name="seconds"/> in steps of <paramref name="step"/> seconds, collecting as it goes.</summary>
    public void RunTo(double seconds, double step = 0.01)
    {
        // In whole ticks: a remainder below a tick would advance the clock by nothing, forever.
        var target = GateTestKit.Start + TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        long stepTicks = (long)Math.Round(step * TimeSpan.TicksPerSecond);
        while (Time.GetUtcNow() < target)
        {
            Time.Advance(TimeSpan.FromTicks(Math.Min(stepTicks, (target - Time.GetUtcNow()).Ticks)));
            Collect();
        }
    }

    /// <summary>Records and releases every admission so far, tops up every busy tenant, until nothing more happens.</summary>
    public void Collect()
    {
        bool again = true;
        while (again)
        {
            again = false;
            foreach (var busy in _busy)
            {
                for (int i = busy.Pending.Count - 1; i >= 0; i--)
                {
                    var (task, asked) = busy.Pending[i];
                    if (!task.IsCompleted)
                    {
                        continue;
                    }

                    busy.Pending.RemoveAt(i);
                    var lease = task.Admitted();
                    long used = busy.Settle?.Invoke(asked) ?? asked;
                    if (busy.Settle is not null)
                    {
                        lease.Settle(used);
                    }

                    Admissions.Add(new Admission(Now, busy.Tenant?.Name ?? "default", used, busy.Priority));
                    lease.Dispose();
                    again = true;
                }

                while (Now < busy.Until && busy.Pending.Count < busy.Depth)
                {
                    long asked = busy.Tokens();
                    busy.Pending.Add((Partition.Enter(new AdmissionRequest(asked, busy.Priority) { Tenant = busy.Tenant }), asked));
                    again = true;
                }
            }
        }
    }

    /// <summary>Stops topping up every tenant (their callers already waiting stay).</summary>
    public void StopAll()
    {
        foreach (var busy in _busy)
        {
            busy.Until = double.MinValue;
        }
    }

    /// <summary>Per window of <paramref name="width"/> seconds from <paramref name="from"/> to <paramref name="to"/>: what each tenant got (count, or tokens).</summary>
    public List<Dictionary<string, double>> Windows(double from, double to, double width, bool tokens = false)
    {
        var windows = new List<Dictionary<string, double>>();
        for (double start = from; start + width <= to + 1e-9; start += width)
        {
            var got = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var a in Admissions)
            {
                if (a.At >= start - 1e-9 && a.At < start + width - 1e-9)
                {
                    got[a.Tenant] = got.GetValueOrDefault(a.Tenant) + (tokens ? a.Tokens : 1);
                }
            }

            windows.Add(got);
        }

        return windows;
    }

    /// <summary>The most any sliding window of <paramref name="width"/> seconds held (count, or tokens), for one tenant or all.</summary>
    public double MaxInAnyWindow(double width, string? tenant = null, bool tokens = false)
    {
        var list = Admissions.Where(a => tenant is null || a.Tenant == tenant).OrderBy(a => a.At).ToList();
        double max = 0, sum = 0;
        int first = 0;
        for (int last = 0; last < list.Count; last++)
        {
            sum += tokens ? list[last].Tokens : 1;
            while (list[last].At - list[first].At >= width - 1e-9)
            {
                sum -= tokens ? list[first].Tokens : 1;
                first++;
            }

            max = Math.Max(max, sum);
        }

        return max;
    }

    public void Dispose() => Gate.Dispose();

    internal sealed record Admission(double At, string Tenant, long Tokens, int Priority);

    private sealed class Busy(GateTenant? tenant, int depth, double until, Func<long> tokens, Func<long, long>? settle, int priority)
    {
        public GateTenant? Tenant { get; } = tenant;

        public int Depth { get; } = depth;

        public double Until { get; set; } = until;

        public Func<long> Tokens { get; } = tokens;

        public Func<long, long>? Settle { get; } = settle;

        public int Priority { get; } = priority;

        public List<(Task<GateLease> Task, long Asked)> Pending { get; } = [];
    }
}
