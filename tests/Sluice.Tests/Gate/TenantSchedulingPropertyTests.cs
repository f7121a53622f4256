using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// Random mixes of tenants, weights, priorities, requeues, own limits, cancellations and releases on a fake clock:
/// the counts the snapshot shows always add up, no limit is ever exceeded, and every caller ends exactly once.
/// </summary>
public sealed class TenantSchedulingPropertyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomOperations_KeepCountsConsistentAndLimitsHeld(int seed)
    {
        var random = new Random(seed);
        const int concurrency = 4;
        using var rig = new TenantRig(
            new PartitionLimits { MaxConcurrency = concurrency, RequestsPerWindow = 1_200, RequestBurst = 2, LearnBudgets = false, MaxQueueLength = 50 },
            priorityAging: TimeSpan.FromSeconds(1),
            maxTenants: 4);
        var tenants = Enumerable.Range(0, 6).Select(i => new GateTenant($"t{i}")
        {
            Weight = 1 + i,
            Limits = i == 0 ? new TenantLimits { MaxConcurrency = 1 } : i == 1 ? new TenantLimits { RequestsPerMinute = 120 } : null,
        }).ToArray();
        var callers = new List<(Task<GateLease> Task, CancellationTokenSource Cancel, string Tenant)>();
        var held = new List<(GateLease Lease, string Tenant)>();
        var admittedAt = new List<(double At, string Tenant)>();
        long start = rig.Time.GetTimestamp();

        for (int step = 0; step < 2_000; step++)
        {
            switch (random.Next(5))
            {
                case 0 or 1:
                    var tenant = random.Next(7) == 6 ? null : tenants[random.Next(tenants.Length)];
                    var cancel = new CancellationTokenSource();
                    var request = new AdmissionRequest(Priority: random.Next(3), AtFront: random.Next(5) == 0) { Tenant = tenant };
                    callers.Add((rig.Partition.Enter(request, cancel.Token), cancel, tenant?.Name ?? "default"));
                    break;
                case 2 when callers.Count > 0:
                    callers[random.Next(callers.Count)].Cancel.Cancel();
                    break;
                case 3 when held.Count > 0:
                    int index = random.Next(held.Count);
                    held[index].Lease.Dispose();
                    held.RemoveAt(index);
                    break;
                default:
                    rig.Time.Advance(TimeSpan.FromMilliseconds(random.Next(1, 200)));
                    break;
            }

            // Collect every caller that has ended: admitted ones are held until released.
            for (int i = callers.Count - 1; i >= 0; i--)
            {
                var (task, cancel, name) = callers[i];
                if (task.IsCompleted)
                {
                    if (LeaseOf(task) is { } lease)
                    {
                        held.Add((lease, name));
                        admittedAt.Add((rig.Time.GetElapsedTime(start, lease.AdmittedAt).TotalSeconds, name));
                    }

                    cancel.Dispose();
                    callers.RemoveAt(i);
                }
            }

            var snapshot = rig.Partition.GetSnapshot();
            Assert.Equal(held.Count, snapshot.InFlight);
            Assert.InRange(snapshot.InFlight, 0, concurrency);
            Assert.Equal(callers.Count, snapshot.Queued);
            Assert.Equal(snapshot.Queued, snapshot.Tenants.Sum(t => t.Waiting));
            Assert.Equal(snapshot.InFlight, snapshot.Tenants.Sum(t => t.InFlight));
            Assert.InRange(snapshot.Tenants.Count, 0, 4);
            Assert.InRange(held.Count(h => h.Tenant == "t0"), 0, 1);
            foreach (var t in snapshot.Tenants)
            {
                Assert.Equal(held.Count(h => h.Tenant == t.Name), t.InFlight);
                Assert.Equal(callers.Count(c => c.Tenant == t.Name), t.Waiting);
            }
        }

        // Released and no longer fed, every caller left ends.
        foreach (var (lease, _) in held)
        {
            lease.Dispose();
        }

        for (int i = 0; i < 10_000 && callers.Any(c => !c.Task.IsCompleted); i++)
        {
            rig.Time.Advance(TimeSpan.FromMilliseconds(100));
            foreach (var (task, _, _) in callers)
            {
                LeaseOf(task)?.Dispose();
            }
        }

        Assert.All(callers, c => Assert.True(c.Task.IsCompleted));
        Assert.Equal(0, rig.Partition.GetSnapshot().Queued);

        // 20 a second with a burst of 2 for the partition; 2 a second with a burst of 2 for t1.
        Assert.True(MaxInOneSecond(admittedAt.Select(a => a.At)) <= 22);
        Assert.True(MaxInOneSecond(admittedAt.Where(a => a.Tenant == "t1").Select(a => a.At)) <= 4);
        Assert.True(admittedAt.Count > 100, $"only {admittedAt.Count} admitted");
    }

    /// <summary>The lease of a caller admitted by now; null while it waits or when it was refused or cancelled.</summary>
    private static GateLease? LeaseOf(Task<GateLease> task) =>
        task.IsCompletedSuccessfully && task.Result.IsAdmitted ? task.Result : null;

    private static int MaxInOneSecond(IEnumerable<double> times)
    {
        var sorted = times.Order().ToList();
        int max = 0, first = 0;
        for (int last = 0; last < sorted.Count; last++)
        {
            while (sorted[last] - sorted[first] >= 1 - 1e-9)
            {
                first++;
            }

            max = Math.Max(max, last - first + 1);
        }

        return max;
    }
}
