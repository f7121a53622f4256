using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Sluice.Cli.Run;

/// <summary>
/// The durable record of a <c>sluice run</c>: one row per finished <c>custom_id</c> holding its output line, plus
/// the fingerprint of the input file it belongs to. SQLite in WAL mode; a single writer task commits outcomes in
/// groups (everything that arrived while the previous commit was on disk), so committing never limits the run.
/// An outcome counts as done only once its commit has returned. API keys are never written here.
/// </summary>
internal sealed class RunJournal : IAsyncDisposable, IRunOutcomes
{
    private const int SchemaVersion = 1;

    private readonly SqliteConnection _connection;
    private readonly FileStream _runLock;
    private readonly Channel<PendingOutcome> _queue = Channel.CreateUnbounded<PendingOutcome>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private long _commits;

    private RunJournal(SqliteConnection connection, FileStream runLock)
    {
        _connection = connection;
        _runLock = runLock;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>The journal's file.</summary>
    public required string Path { get; init; }

    /// <summary>Called on the writer task for each outcome once it is committed, with whether it succeeded.</summary>
    public Action<bool>? OnCommitted { get; set; }

    /// <summary>The error that stopped a commit, if one failed; outcomes it held are not done.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Transactions committed so far (each holds one or more outcomes).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>
    /// Opens (or creates) the journal for an input with <paramref name="inputFingerprint"/>. A journal made for a
    /// different input is refused with <see cref="JournalMismatchException"/>.
    /// </summary>
    public static RunJournal Open(string path, string inputFingerprint, string inputName)
    {
        // One run per journal: an advisory lock (flock) on the journal file, held until the journal is disposed or
        // the process dies, so a second `sluice run` on the same journal is refused instead of sending twice. SQLite
        // locks with fcntl, which flock does not disturb; the handle stays open as long as SQLite's, so closing it
        // cannot drop SQLite's own locks.
        FileStream runLock;
        try
        {
            runLock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception) when (File.Exists(path))
        {
            throw new JournalInUseException(exception);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS outcomes (
                    custom_id TEXT PRIMARY KEY,
                    line_number INTEGER NOT NULL,
                    succeeded INTEGER NOT NULL,
                    output TEXT NOT NULL);
                """);
            string? recorded = ReadMeta(connection, "input_sha256");
            if (recorded is null)
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO meta (key, value) VALUES ('schema', $schema), ('input_sha256', $fingerprint), ('input_name', $name)";
                insert.Parameters.AddWithValue("$schema", SchemaVersion.ToString(CultureInfo.InvariantCulture));
                insert.Parameters.AddWithValue("$fingerprint", inputFingerprint);
                insert.Parameters.AddWithValue("$name", inputName);
                insert.ExecuteNonQuery();
            }
            else if (!string.Equals(recorded, inputFingerprint, StringComparison.Ordinal))
            {
                throw new JournalMismatchException(ReadMeta(connection, "input_name") ?? "another file");
            }

            return new RunJournal(connection, runLock) { Path = path };
        }
        catch
        {
            connection.Dispose();
            runLock.Dispose();
            throw;
        }
    }

    /// <summary>The custom ids already finished (succeeded or failed for good): a rerun skips them.</summary>
    public HashSet<string> ReadFinishedIds()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT custom_id FROM outcomes";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>
    /// What the finished lines cost, from the <c>sluice.cost</c> each output line carries (lines written before costs
    /// were, and those of models without a price, add nothing): a spend cap counts it, so that a rerun does not
    /// spend the cap again.
    /// </summary>
    public decimal ReadSpent()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT total(json_extract(output, '$.sluice.cost')) FROM outcomes WHERE json_valid(output)";
        double spent = Convert.ToDouble(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        // Summed as floating point by SQLite: rounded to a millionth of a cent, far below any price.
        return Math.Round((decimal)spent, 8);
    }

    /// <summary>Queues a final outcome; the task completes once it is committed.</summary>
    public Task RecordAsync(string customId, int lineNumber, bool succeeded, string outputLine)
    {
        var pending = new PendingOutcome(customId, lineNumber, succeeded, outputLine, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The journal is closed.");
        }

        return pending.Committed.Task;
    }

    /// <summary>
    /// Writes the results file (every finished job, in input order) and the errors file (the failed ones) from the
    /// journal, each through a temporary file renamed into place, so a crash leaves either the old or the new file.
    /// </summary>
    /// <returns>Lines written to the results file and to the errors file.</returns>
    public async Task<(long Results, long Errors)> WriteOutputsAsync(string resultsPath, string errorsPath, CancellationToken cancellationToken)
    {
        await FlushAsync().ConfigureAwait(false);
        long results = await WriteAsync(resultsPath, "SELECT output FROM outcomes ORDER BY line_number", cancellationToken).ConfigureAwait(false);
        long errors = await WriteAsync(errorsPath, "SELECT output FROM outcomes WHERE succeeded = 0 ORDER BY line_number", cancellationToken).ConfigureAwait(false);
        return (results, errors);
    }

    /// <summary>Waits until everything recorded so far is committed, and stops taking outcomes.</summary>
    public async Task FlushAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        Execute(_connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _runLock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The temporary file an output is written to before it is renamed into place.</summary>
    public static string TemporaryPath(string outputPath) => outputPath + ".tmp";

    /// <summary>The files SQLite keeps beside a journal: its write-ahead log, shared memory and rollback journal.</summary>
    public static IEnumerable<(string What, string Path)> Companions(string journalPath) =>
    [
        ("the journal's write-ahead log", journalPath + "-wal"),
        ("the journal's shared memory", journalPath + "-shm"),
        ("the journal's rollback journal", journalPath + "-journal"),
    ];

    private async Task<long> WriteAsync(string path, string query, CancellationToken cancellationToken)
    {
        string temporary = TemporaryPath(path);
        long lines = 0;
        var writer = new StreamWriter(temporary, append: false, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        await using (writer.ConfigureAwait(false))
        {
            writer.NewLine = "\n";
            using var command = _connection.CreateCommand();
            command.CommandText = query;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                await writer.WriteLineAsync(reader.GetString(0).AsMemory(), cancellationToken).ConfigureAwait(false);
                lines++;
            }

            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        return lines;
    }

    // The single writer: takes everything queued, commits it in one transaction, then tells each waiter.
    private async Task WriteAsync()
    {
        var batch = new List<PendingOutcome>();
        using var insert = _connection.CreateCommand();
        insert.CommandText = "INSERT OR IGNORE INTO outcomes (custom_id, line_number, succeeded, output) VALUES ($id, $line, $ok, $output)";
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var line = insert.Parameters.Add("$line", SqliteType.Integer);
        var ok = insert.Parameters.Add("$ok", SqliteType.Integer);
        var output = insert.Parameters.Add("$output", SqliteType.Text);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 10_000 && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                using var transaction = _connection.BeginTransaction();
                insert.Transaction = transaction;
                foreach (var pending in batch)
                {
                    id.Value = pending.CustomId;
                    line.Value = pending.LineNumber;
                    ok.Value = pending.Succeeded ? 1 : 0;
                    output.Value = pending.OutputLine;
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
                Interlocked.Increment(ref _commits);
                foreach (var pending in batch)
                {
                    OnCommitted?.Invoke(pending.Succeeded);
                    pending.Committed.TrySetResult();
                }
            }
            catch (SqliteException exception)
            {
                Fault ??= exception;
                foreach (var pending in batch)
                {
                    pending.Committed.TrySetException(exception);
                }
            }

            batch.Clear();
        }
    }

    private static string? ReadMeta(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed record PendingOutcome(string CustomId, int LineNumber, bool Succeeded, string OutputLine, TaskCompletionSource Committed);
}

/// <summary>The journal belongs to a different input file.</summary>
internal sealed class JournalMismatchException(string recordedInput)
    : Exception($"the journal was made for a different input ({recordedInput})")
{
    /// <summary>The input file the journal was made for, as it was named then.</summary>
    public string RecordedInput { get; } = recordedInput;
}

/// <summary>Another process holds the journal.</summary>
internal sealed class JournalInUseException(Exception inner) : Exception("the journal is in use by another process", inner);
