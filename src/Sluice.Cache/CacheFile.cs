using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Sluice.Cache;

/// <summary>
/// Opens a cache file and proves it is one: a new or empty file gets the schema; an existing file must be SQLite, carry
/// this cache's application id and schema version, and pass <c>PRAGMA quick_check</c>. Anything else — another
/// program's database, a file of garbage, a damaged page — is refused with <see cref="CacheUnusableException"/>, and
/// nothing is written to it.
/// </summary>
internal static class CacheFile
{
    /// <summary>SQLite's application id for this file format: "SlCa".</summary>
    public const int ApplicationId = 0x536C4361;

    public const string Schema = "sluice-response-cache";

    public const int SchemaVersion = 1;

    /// <summary>SQLite's primary result codes that mean the file itself is damaged or not a database.</summary>
    public static bool IsDamage(SqliteException exception) => (exception.SqliteErrorCode & 0xFF) is 11 or 26;

    public static SqliteConnection OpenConnection(string path, bool create)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
            // Another process sharing the file may hold the write lock for a moment; wait for it rather than fail.
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens the writer's connection, creating the schema in a new file and checking an existing one.</summary>
    public static SqliteConnection OpenWriter(string path)
    {
        var connection = OpenConnection(path, create: true);
        try
        {
            // Read-only questions first: a foreign file must not be touched, not even switched to WAL.
            long objects = Scalar<long>(connection, "SELECT count(*) FROM sqlite_master");
            if (objects == 0)
            {
                Create(connection);
            }
            else
            {
                Check(connection);
            }

            Execute(connection, "PRAGMA synchronous = NORMAL");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    private static void Create(SqliteConnection connection)
    {
        Execute(connection, "PRAGMA journal_mode = WAL");
        // Two processes may create the same new file at once: IF NOT EXISTS and OR IGNORE make the second a no-op.
        // The key table is narrow and WITHOUT ROWID (a lookup is one b-tree descent on the hash); the bodies live in a
        // rowid table beside it, appended in order. SQLite advises WITHOUT ROWID only for rows under ~1/20 of a page:
        // with the ~700-byte bodies inside it, every store into a random place of the tree split and rewrote several
        // pages (measured: ~5 pages written a store, 4,000 stores/s at 20,000 entries).
        Execute(connection, $"""
            BEGIN IMMEDIATE;
            PRAGMA application_id = {ApplicationId};
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS answers (
                key BLOB PRIMARY KEY,
                stored_at INTEGER NOT NULL,
                last_used INTEGER NOT NULL,
                size INTEGER NOT NULL,
                checksum INTEGER NOT NULL,
                body INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, entry BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS answers_by_last_used ON answers (last_used);
            INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '{Schema}'), ('version', '{SchemaVersion}');
            INSERT OR IGNORE INTO totals (id, entries, bytes) VALUES (1, 0, 0);
            COMMIT;
            """);
    }

    private static void Check(SqliteConnection connection)
    {
        if (Scalar<long>(connection, "PRAGMA application_id") != ApplicationId
            || Scalar<long>(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'totals', 'answers', 'bodies')") != 4)
        {
            throw new CacheUnusableException("it is another program's SQLite database, not a Sluice response cache");
        }

        string? schema = null;
        string? version = null;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT key, value FROM meta WHERE key IN ('schema', 'version')";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _ = reader.GetString(0) == "schema" ? schema = reader.GetString(1) : version = reader.GetString(1);
            }
        }

        if (schema != Schema || version != SchemaVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new CacheUnusableException($"its schema is {schema ?? "missing"} version {version ?? "missing"}, not {Schema} version {SchemaVersion}");
        }

        string check = Scalar<string>(connection, "PRAGMA quick_check(1)");
        if (check != "ok")
        {
            throw new CacheUnusableException($"its integrity check failed: {check}");
        }

        Execute(connection, "PRAGMA journal_mode = WAL");
    }
}
