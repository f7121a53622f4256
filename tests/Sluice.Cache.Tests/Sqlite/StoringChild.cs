using System.Globalization;
using System.Text;
using Sluice.Caching;
using Sluice.Providers;

namespace Sluice.Cache.Tests.Sqlite;

/// <summary>
/// The child process of <see cref="AtomicityTests"/>: stores large entries one after another for ever, printing each
/// one's number once its store has committed, until it is killed.
/// </summary>
internal static class StoringChild
{
    public static async Task RunAsync(string path)
    {
        using var cache = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = path });
        for (int i = 0; ; i++)
        {
            await cache.StoreAsync(KeyOf(i), AnswerOf(i));
            Console.Out.WriteLine(i.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
        }
    }

    public static CacheKey KeyOf(int i) => CacheKey.For(ProviderKind.OpenAI, "/v1/chat/completions", Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""));

    /// <summary>An answer of about 200 KB that compresses poorly, so each store spans many pages and takes a while.</summary>
    public static CachedAnswer AnswerOf(int i) => new()
    {
        StatusCode = 200,
        ContentType = "application/json",
        Body = BodyOf(i),
        StoredAt = TimeProvider.System.GetUtcNow(),
    };

    public static byte[] BodyOf(int i)
    {
        var random = new Random(i);
        var text = new StringBuilder("{\"n\":").Append(i).Append(",\"text\":\"");
        for (int c = 0; c < 200_000; c++)
        {
            text.Append((char)('a' + random.Next(26)));
        }

        return Encoding.UTF8.GetBytes(text.Append("\"}").ToString());
    }
}
