using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Sluice.Redis.Batch;
using StackExchange.Redis;

namespace Sluice.Cli.Run;

/// <summary>
/// A batch file's requests as they travel through Redis: each line is loaded as <c>{"url":…,"body":…}</c> under its
/// custom_id and line number, and made back into a <see cref="RequestLine"/> by the worker that takes it.
/// </summary>
internal static class SharedBatchLines
{
    /// <summary>Every request of the validated file, in order, as the lines to load.</summary>
    public static async IAsyncEnumerable<RedisBatchItem> ItemsAsync(string path, RequestFile.Validation validated, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var line in RequestFile.ReadAsync(path, validated, new HashSet<string>(), cancellationToken).ConfigureAwait(false))
        {
            yield return new RedisBatchItem(line.CustomId, line.LineNumber, Payload(line));
        }
    }

    /// <summary>The line's address and body, as one compact JSON object.</summary>
    public static string Payload(RequestLine line)
    {
        var buffer = new ArrayBufferWriter<byte>(line.Body.Length + line.Url.Length + 32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("url", line.Url);
            writer.WritePropertyName("body");
            writer.WriteRawValue(line.Body, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The request a taken line holds.</summary>
    /// <exception cref="InvalidDataException">The payload is not one this class wrote: the batch's keys were changed by hand.</exception>
    public static RequestLine Request(RedisBatchLine line)
    {
        try
        {
            using var document = JsonDocument.Parse(line.Payload);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
                && root.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.Object)
            {
                return new RequestLine(line.LineNumber, line.Id, url.GetString()!, Encoding.UTF8.GetBytes(body.GetRawText()));
            }
        }
        catch (JsonException)
        {
        }

        throw new InvalidDataException($"the batch's line {line.EntryId} ({line.Id}) in Redis is not a request Sluice loaded");
    }

    /// <summary>How long Redis may stay away while a worker waits for lines before the worker gives up.</summary>
    public static readonly TimeSpan RedisPatience = TimeSpan.FromSeconds(30);

    // Redis away for a moment (a restart, a failover) is waited out; for longer, the worker stops with a clear line and
    // its lines go back to the others after the takeover time.
    private static async Task<IReadOnlyList<RedisBatchLine>> TakeWaitingOutRedisAsync(RedisBatch batch, int takeAtOnce, TimeProvider time, CancellationToken cancellationToken)
    {
        long since = time.GetTimestamp();
        while (true)
        {
            try
            {
                return await batch.TakeAsync(takeAtOnce, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // The batch's stream is gone: waiting would not bring it back.
                throw new IOException($"the batch {batch.Name} is gone from Redis at {batch.Server} (deleted, expired, or Redis restarted without persistence); start the workers again to load it anew", exception);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                if (time.GetElapsedTime(since) >= RedisPatience)
                {
                    throw new IOException($"Redis at {batch.Server} did not answer for {RedisPatience.TotalSeconds:F0} s ({exception.GetType().Name}); every result recorded is kept there", exception);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Lines taken from the batch, a few at a time, as the runner has room for them, until the batch is complete or
    /// <paramref name="stopTaking"/> says so (a drain, a stopped partition): a worker that cannot send takes no more.
    /// </summary>
    public static async IAsyncEnumerable<RequestLine> TakeAsync(
        RedisBatch batch,
        SharedBatchOutcomes outcomes,
        int takeAtOnce,
        Func<bool> stopTaking,
        TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!stopTaking())
        {
            var lines = await TakeWaitingOutRedisAsync(batch, takeAtOnce, time, cancellationToken).ConfigureAwait(false);
            if (lines.Count == 0)
            {
                yield break;
            }

            foreach (var line in lines)
            {
                outcomes.Taken(line);
                yield return Request(line);
            }
        }
    }
}
