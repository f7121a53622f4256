using System.Globalization;
using Sluice.Cache;

namespace Sluice.Benchmarks;

/// <summary>
/// The cache's size on disk at scale (issue 16: 1,000,000 entries under 1 GB): stores N realistic chat answers
/// (800–1,500 bytes each, prose-like text), 256 at a time as a busy run would, then reports the file's size, the time
/// to store and to reopen (the integrity check), and the time of lookups in the full file.
/// Run: <c>bench/cache/size.sh [ENTRIES]</c>, or <c>dotnet run -c Release --project bench/Sluice.Benchmarks -- cache-size ENTRIES FILE</c>.
/// </summary>
internal static class CacheSizeRun
{
    public static async Task RunAsync(int entries, string path)
    {
        foreach (string file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }

        var now = TimeProvider.System.GetUtcNow();
        long rawBytes = 0;
        var storeTime = TimeSpan.Zero;
        var clock = TimeProvider.System;
        long started = clock.GetTimestamp();
        using (var cache = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = path, MaxBytes = 4L << 30 }))
        {
            const int Together = 256;
            var stores = new Task[Together];
            for (int start = 0; start < entries; start += Together)
            {
                int count = Math.Min(Together, entries - start);
                // Made before they are stored, so the store time is the cache's alone.
                var answers = new Sluice.Caching.CachedAnswer[count];
                var keys = new Sluice.Caching.CacheKey[count];
                for (int i = 0; i < count; i++)
                {
                    answers[i] = CacheWorkload.Answer(start + i, now);
                    keys[i] = CacheWorkload.Key(start + i);
                    rawBytes += answers[i].Body.Length;
                }

                long storing = clock.GetTimestamp();
                for (int i = 0; i < count; i++)
                {
                    stores[i] = cache.StoreAsync(keys[i], answers[i]).AsTask();
                }

                await Task.WhenAll(stores.AsSpan(0, count).ToArray());
                storeTime += clock.GetElapsedTime(storing);
                if ((start / Together) % 400 == 0)
                {
                    Console.Error.Write($"\r{start + count:N0} stored");
                }
            }

            var statistics = cache.Statistics;
            Console.Error.WriteLine();
            Report("entries", statistics.Entries.ToString("N0", CultureInfo.InvariantCulture));
            Report("answers' raw bytes", Megabytes(rawBytes));
            Report("bytes counted against the cap", Megabytes(statistics.Bytes));
        }

        var stored = clock.GetElapsedTime(started);
        Report("time to store", $"{storeTime.TotalSeconds:0.0} s ({entries / storeTime.TotalSeconds:N0} stores/s, 256 at a time); with making the answers {stored.TotalSeconds:0.0} s");
        long onDisk = new[] { path, path + "-wal", path + "-shm" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
        Report("file size on disk", $"{Megabytes(onDisk)} ({(double)onDisk / entries:0} bytes an entry)");

        started = clock.GetTimestamp();
        using (var reopened = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = path, MaxBytes = 4L << 30 }))
        {
            Report("reopen (integrity check)", $"{clock.GetElapsedTime(started).TotalMilliseconds:N0} ms; disabled: {reopened.Statistics.DisabledReason ?? "no"}");
            var random = new Random(3);
            var keys = Enumerable.Range(0, 20_000).Select(_ => CacheWorkload.Key(random.Next(entries))).ToArray();
            started = clock.GetTimestamp();
            int hits = 0;
            foreach (var key in keys)
            {
                hits += await reopened.TryGetAsync(key) is null ? 0 : 1;
            }

            var lookups = clock.GetElapsedTime(started);
            Report("lookups in the full file (cold pages)", $"{hits:N0} hits of {keys.Length:N0}, {lookups.TotalMicroseconds / keys.Length:0.0} µs each");
        }
    }

    private static string Megabytes(long bytes) => $"{bytes / 1_000_000.0:N1} MB";

    private static void Report(string what, string value) => Console.Out.WriteLine($"{what,-40} {value}");
}
