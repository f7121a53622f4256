using Microsoft.Data.Sqlite;

namespace Sluice.Cache;

/// <summary>
/// One reading connection with its lookup prepared once and its key parameter bound to a buffer, so a lookup
/// allocates nothing but the row it reads. Used by one thread at a time, from the cache's pool.
/// </summary>
internal sealed class CacheReader : IDisposable
{
    private readonly SqliteConnection _connection;

    public CacheReader(string path)
    {
        _connection = CacheFile.OpenConnection(path, create: false);
        try
        {
            Select = _connection.CreateCommand();
            Select.CommandText = "SELECT a.stored_at, a.last_used, a.checksum, b.entry FROM answers AS a JOIN bodies AS b ON b.id = a.body WHERE a.key = $key";
            Select.Parameters.Add(new SqliteParameter("$key", Key));
            Select.Prepare();
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The key to look up: written in place before each lookup.</summary>
    public byte[] Key { get; } = new byte[Sluice.Caching.CacheKey.Length];

    public SqliteCommand Select { get; }

    public void Dispose()
    {
        Select.Dispose();
        _connection.Dispose();
    }
}
