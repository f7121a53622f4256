using System.Globalization;
using StackExchange.Redis;

namespace Sluice.Redis.Batch;

/// <summary>Loading: the first worker adds the lines; the others wait until it is done, or take over from a dead loader.</summary>
public sealed partial class RedisBatch
{
    /// <summary>Lines sent to Redis in one script call, at most.</summary>
    private const int LoadChunkLines = 500;

    /// <summary>Payload bytes (as characters) sent in one script call, at most, beyond the first line.</summary>
    private const int LoadChunkChars = 1 << 20;

    /// <summary>
    /// Joins the batch with its input: the first worker records <paramref name="fingerprint"/> and adds the lines; a
    /// worker that comes later with the same fingerprint finds them there (or finishes a load whose worker died); one
    /// with another fingerprint is refused and loads nothing. Returns once the batch is fully loaded, or refused.
    /// Taking lines may begin only after this. Load the same lines in the same order from every worker.
    /// </summary>
    /// <param name="fingerprint">What identifies the input, such as the SHA-256 of the file: every worker must give the same.</param>
    /// <param name="items">The lines, in order; read only by the worker that loads.</param>
    /// <param name="cancellationToken">Stops loading or waiting.</param>
    /// <returns>Whether this worker loaded the batch, found it loaded, or found another input under the name.</returns>
    public async Task<RedisBatchLoad> LoadAsync(string fingerprint, IAsyncEnumerable<RedisBatchItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        ArgumentNullException.ThrowIfNull(items);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);

        // The first worker's fingerprint is the batch's: later ones must match it.
        if (!await _db.HashSetAsync(_keys.Meta, "sha256", fingerprint, When.NotExists).ConfigureAwait(false)
            && await _db.HashGetAsync(_keys.Meta, "sha256").ConfigureAwait(false) is var recorded
            && !string.Equals(recorded.ToString(), fingerprint, StringComparison.Ordinal))
        {
            return RedisBatchLoad.DifferentInput;
        }

        await KeepAsync().ConfigureAwait(false);
        try
        {
            await _db.StreamCreateConsumerGroupAsync(_keys.Lines, RedisBatchKeys.Group, "0-0", createStream: true).ConfigureAwait(false);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another worker made it first.
        }

        // The lease outlives a pause of the loader by the claim time, as a taken line does.
        var lease = _options.ClaimIdleTime;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await _db.HashExistsAsync(_keys.Meta, "total").ConfigureAwait(false))
            {
                return RedisBatchLoad.AlreadyLoaded;
            }

            if (await _db.StringSetAsync(_keys.Loader, _worker, lease, When.NotExists).ConfigureAwait(false))
            {
                if (await LoadLinesAsync(items, lease, cancellationToken).ConfigureAwait(false))
                {
                    await KeepAsync().ConfigureAwait(false);
                    return RedisBatchLoad.Loaded;
                }

                continue;
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    // Adds every line after the last one already in the stream, a chunk per script call; false when the lease was lost.
    private async Task<bool> LoadLinesAsync(IAsyncEnumerable<RedisBatchItem> items, TimeSpan lease, CancellationToken cancellationToken)
    {
        string leaseMs = Milliseconds(lease);
        var chunk = new List<RedisValue> { _worker, leaseMs };
        int chunkLines = 0;
        long chunkChars = 0;
        long index = 0;
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            index++;
            chunk.Add(index.ToString(CultureInfo.InvariantCulture));
            chunk.Add(item.LineNumber.ToString(CultureInfo.InvariantCulture));
            chunk.Add(item.Id);
            chunk.Add(item.Payload);
            chunkLines++;
            chunkChars += item.Payload.Length;
            if (chunkLines >= LoadChunkLines || chunkChars >= LoadChunkChars)
            {
                if (!await AddChunkAsync(chunk).ConfigureAwait(false))
                {
                    return false;
                }

                chunk.RemoveRange(2, chunk.Count - 2);
                chunkLines = 0;
                chunkChars = 0;
            }
        }

        if (chunkLines > 0 && !await AddChunkAsync(chunk).ConfigureAwait(false))
        {
            return false;
        }

        var finished = await _db.ScriptEvaluateAsync(RedisBatchScripts.FinishLoad, [_keys.Loader, _keys.Meta], [_worker, index]).ConfigureAwait(false);
        return (long)finished == 1;
    }

    private async Task<bool> AddChunkAsync(List<RedisValue> chunk) =>
        (long)await _db.ScriptEvaluateAsync(RedisBatchScripts.AddLines, [_keys.Loader, _keys.Lines], [.. chunk]).ConfigureAwait(false) >= 0;
}
