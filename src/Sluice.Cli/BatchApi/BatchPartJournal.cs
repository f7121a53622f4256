using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// The parts of a batch-api run, in the run's own journal (table <c>batch_parts</c>, beside <c>outcomes</c>): each
/// part's lines, its input file and batch ids and its status, written before and after every step that reaches the
/// provider, so that a rerun after a kill finds its batches again instead of submitting twice. A second connection
/// to the journal file; the run's lock on the file is already held by <see cref="Run.RunJournal"/>.
/// </summary>
internal sealed class BatchPartJournal : IDisposable
{
    private readonly SqliteConnection _connection;

    private BatchPartJournal(SqliteConnection connection, string runId)
    {
        _connection = connection;
        RunId = runId;
    }

    /// <summary>This run's id, sent as the batches' <c>sluice_run</c> metadata; the same on every rerun of the journal.</summary>
    public string RunId { get; }

    public static BatchPartJournal Open(string journalPath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = journalPath,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                PRAGMA synchronous = FULL;
                CREATE TABLE IF NOT EXISTS batch_parts (
                    part INTEGER PRIMARY KEY,
                    url TEXT NOT NULL,
                    model TEXT NOT NULL,
                    lines TEXT NOT NULL,
                    first_line INTEGER NOT NULL,
                    last_line INTEGER NOT NULL,
                    bytes INTEGER NOT NULL,
                    tokens INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    file_id TEXT,
                    batch_id TEXT,
                    submitting_at TEXT);
                INSERT OR IGNORE INTO meta (key, value) VALUES ('batch_api_run', 'sluice-' || lower(hex(randomblob(12))));
                """);
            using var read = connection.CreateCommand();
            read.CommandText = "SELECT value FROM meta WHERE key = 'batch_api_run'";
            return new BatchPartJournal(connection, (string)read.ExecuteScalar()!);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Every part journalled, by number.</summary>
    public List<BatchPart> ReadParts()
    {
        var parts = new List<BatchPart>();
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT part, url, model, lines, bytes, tokens, attempt, status, file_id, batch_id, submitting_at FROM batch_parts ORDER BY part";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            parts.Add(new BatchPart(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), ParseLines(reader.GetString(3)), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt32(6))
            {
                Status = Enum.Parse<BatchPartStatus>(reader.GetString(7)),
                FileId = reader.IsDBNull(8) ? null : reader.GetString(8),
                BatchId = reader.IsDBNull(9) ? null : reader.GetString(9),
                SubmittingAt = reader.IsDBNull(10) ? null : DateTimeOffset.Parse(reader.GetString(10), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            });
        }

        return parts;
    }

    /// <summary>Journals new parts, and optionally marks one part collected in the same transaction.</summary>
    public void Add(IReadOnlyCollection<BatchPart> parts, int? collected = null)
    {
        using var transaction = _connection.BeginTransaction();
        using var insert = _connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO batch_parts (part, url, model, lines, first_line, last_line, bytes, tokens, attempt, status) VALUES ($part, $url, $model, $lines, $first, $last, $bytes, $tokens, $attempt, $status)";
        foreach (var part in parts)
        {
            insert.Parameters.Clear();
            insert.Parameters.AddWithValue("$part", part.Number);
            insert.Parameters.AddWithValue("$url", part.Url);
            insert.Parameters.AddWithValue("$model", part.Model);
            insert.Parameters.AddWithValue("$lines", FormatLines(part.Lines));
            insert.Parameters.AddWithValue("$first", part.Lines.Min(l => l.LineNumber));
            insert.Parameters.AddWithValue("$last", part.Lines.Max(l => l.LineNumber));
            insert.Parameters.AddWithValue("$bytes", part.Bytes);
            insert.Parameters.AddWithValue("$tokens", part.Tokens);
            insert.Parameters.AddWithValue("$attempt", part.Attempt);
            insert.Parameters.AddWithValue("$status", part.Status.ToString());
            insert.ExecuteNonQuery();
        }

        if (collected is { } number)
        {
            Update(transaction, number, BatchPartStatus.Collected, null, null, null);
        }

        transaction.Commit();
    }

    /// <summary>Journals a part's new status, its file or batch id once known, and when it was first submitted (kept once set).</summary>
    public void Update(int part, BatchPartStatus status, string? fileId = null, string? batchId = null, DateTimeOffset? submittingAt = null)
    {
        using var transaction = _connection.BeginTransaction();
        Update(transaction, part, status, fileId, batchId, submittingAt);
        transaction.Commit();
    }

    public void Dispose() => _connection.Dispose();

    private void Update(SqliteTransaction transaction, int part, BatchPartStatus status, string? fileId, string? batchId, DateTimeOffset? submittingAt)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE batch_parts SET status = $status, file_id = coalesce($file, file_id), batch_id = coalesce($batch, batch_id), submitting_at = coalesce(submitting_at, $at) WHERE part = $part";
        command.Parameters.AddWithValue("$status", status.ToString());
        command.Parameters.AddWithValue("$file", (object?)fileId ?? DBNull.Value);
        command.Parameters.AddWithValue("$batch", (object?)batchId ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", submittingAt is { } at ? at.ToString("O", CultureInfo.InvariantCulture) : DBNull.Value);
        command.Parameters.AddWithValue("$part", part);
        if (command.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException($"part {part.ToString(CultureInfo.InvariantCulture)} is not in the journal");
        }
    }

    // [[line, "id"], ...]: compact, and ids hold any text.
    private static string FormatLines(IReadOnlyList<PartLine> lines)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(lines.Count * 32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var line in lines)
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(line.LineNumber);
                writer.WriteStringValue(line.CustomId);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static List<PartLine> ParseLines(string text)
    {
        using var document = JsonDocument.Parse(text);
        return [.. document.RootElement.EnumerateArray().Select(e => new PartLine(e[1].GetString()!, e[0].GetInt32()))];
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
