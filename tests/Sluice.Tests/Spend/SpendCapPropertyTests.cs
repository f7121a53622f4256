using CsCheck;
using Sluice.Spend;

namespace Sluice.Tests.Spend;

/// <summary>
/// A spend cap under random work: what is settled plus what is reserved never passes the limit at any moment, a
/// reservation is refused exactly when it would, and what is settled is the sum of the actual costs.
/// </summary>
public sealed class SpendCapPropertyTests
{
    // A try: what it reserves, and what it really costs as a share of that (0 = refused by the provider, released).
    private static readonly Gen<(decimal Reserve, decimal Share, bool Release)> Tries =
        Gen.Select(Gen.Int[0, 50_000], Gen.Int[0, 100], Gen.Int[0, 4], (cents, share, release) => (cents / 10_000m, share / 100m, release == 0));

    [Fact]
    public void Sequentially_ARefusalIsExactlyWhenTheLimitWouldBePassed_AndSettledIsTheSumOfActuals() =>
        Gen.Select(Gen.Int[0, 200_000], Tries.Array[1, 80], Gen.Int[1, 8])
            .Sample((limitCents, tries, overlap) =>
            {
                decimal limit = limitCents / 10_000m;
                var cap = new SpendCap(limit);
                var open = new Queue<(SpendReservation Reservation, decimal Actual)>();
                decimal settled = 0, reserved = 0;
                foreach (var (amount, share, release) in tries)
                {
                    bool fits = settled + reserved + amount <= limit;
                    Assert.Equal(fits, cap.TryReserve(amount, out var reservation));
                    if (reservation is not null)
                    {
                        reserved += amount;
                        open.Enqueue((reservation, release ? 0 : decimal.Round(amount * share, 6)));
                    }

                    // Tries overlap: up to `overlap` stay open before the oldest ends.
                    while (open.Count > overlap || (open.Count > 0 && amount > limit / 2))
                    {
                        var (ending, actual) = open.Dequeue();
                        ending.Settle(actual);
                        reserved -= ending.Amount;
                        settled += actual;
                    }

                    var snapshot = cap.GetSnapshot();
                    Assert.Equal((settled, reserved), (snapshot.Settled, snapshot.Reserved));
                    Assert.True(snapshot.Settled + snapshot.Reserved <= limit, $"{snapshot} over {limit}");
                }
            }, iter: 300);

    [Fact]
    public void Concurrently_SettledPlusReservedNeverPassesTheLimit_AtAnyMoment_AndSettledIsTheSumOfActuals() =>
        Gen.Select(Gen.Int[0, 100_000], Tries.Array[20, 200].Array[2, 6])
            .Sample((limitCents, threads) =>
            {
                decimal limit = limitCents / 10_000m;
                var cap = new SpendCap(limit);
                var actuals = new decimal[threads.Length];
                using var done = new CancellationTokenSource();
                var violations = new List<string>();

                // A watcher reads the cap as fast as it can while the workers run: every snapshot is one moment.
                var watcher = Task.Run(() =>
                {
                    while (!done.IsCancellationRequested)
                    {
                        var snapshot = cap.GetSnapshot();
                        if (snapshot.Settled + snapshot.Reserved > limit || snapshot.Reserved < 0)
                        {
                            violations.Add(snapshot.ToString());
                            return;
                        }
                    }
                });
                var workers = threads.Select((tries, index) => Task.Run(() =>
                {
                    var open = new List<(SpendReservation Reservation, decimal Actual)>();
                    foreach (var (amount, share, release) in tries)
                    {
                        if (cap.TryReserve(amount, out var reservation))
                        {
                            open.Add((reservation, release ? 0 : decimal.Round(amount * share, 6)));
                        }

                        if (open.Count > 2 || (open.Count > 0 && share > 0.5m))
                        {
                            var (ending, actual) = open[0];
                            open.RemoveAt(0);
                            ending.Settle(actual);
                            ending.Settle(actual + 1);   // a second settle is ignored
                            actuals[index] += actual;
                        }
                    }

                    foreach (var (ending, actual) in open)
                    {
                        ending.Settle(actual);
                        actuals[index] += actual;
                    }
                })).ToArray();

                Assert.True(Task.WaitAll(workers, TimeSpan.FromSeconds(30)), "the workers did not finish");
                done.Cancel();
                Assert.True(watcher.Wait(TimeSpan.FromSeconds(30)), "the watcher did not stop");

                Assert.Empty(violations);
                var end = cap.GetSnapshot();
                Assert.Equal(0m, end.Reserved);
                Assert.Equal(actuals.Sum(), end.Settled);
                Assert.True(end.Settled <= limit);
            }, iter: 40, threads: 1);
}
