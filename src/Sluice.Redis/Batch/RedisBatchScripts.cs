namespace Sluice.Redis.Batch;

/// <summary>
/// The batch's Lua scripts: each step that must not be torn by a crash or raced by another worker is one script,
/// which Redis runs atomically.
/// </summary>
internal static class RedisBatchScripts
{
    /// <summary>
    /// Adds a chunk of lines while this worker holds the load lease, skipping lines already added (a load taken over
    /// from a dead worker sends from the start). KEYS: loader, lines. ARGV: worker, lease ms, then (index, line number,
    /// id, payload) for each line. Returns the lines added, or -1 when the lease is someone else's.
    /// </summary>
    public const string AddLines = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
        local lastIndex = 0
        if #last > 0 then lastIndex = tonumber(string.match(last[1][1], '^(%d+)')) end
        local added = 0
        for i = 3, #ARGV, 4 do
          local index = tonumber(ARGV[i])
          if index > lastIndex then
            redis.call('XADD', KEYS[2], ARGV[i] .. '-0', 'n', ARGV[i + 1], 'id', ARGV[i + 2], 'p', ARGV[i + 3])
            lastIndex = index
            added = added + 1
          end
        end
        return added
        """;

    /// <summary>
    /// Ends a load: the batch's size is written and the lease let go, only by the lease's holder. KEYS: loader, meta.
    /// ARGV: worker, total. Returns 1, or -1 when the lease is someone else's.
    /// </summary>
    public const string FinishLoad = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        redis.call('HSET', KEYS[2], 'total', ARGV[2])
        redis.call('DEL', KEYS[1])
        return 1
        """;

    /// <summary>
    /// Records a line's result once and acknowledges the line, in one step: a worker killed before this script leaves
    /// the line pending (another worker finishes it); killed after, the result is recorded and the line done. A second
    /// worker finishing the same line (it took over a line whose first worker was slow) records nothing.
    /// KEYS: results, meta, lines. ARGV: id, S|F + result, failed (1|0), entry id, keep-for ms.
    /// Returns 1 when this result is the one recorded, 0 when one was already.
    /// </summary>
    public const string Record = """
        local first = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
        if first == 1 and ARGV[3] == '1' then redis.call('HINCRBY', KEYS[2], 'failed', 1) end
        redis.call('XACK', KEYS[3], 'workers', ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return first
        """;

    /// <summary>
    /// Renews this worker's pending lines (their idle time starts again), so a live worker's slow request is not
    /// taken over; a line another worker took over meanwhile is left alone. KEYS: lines. ARGV: worker, idle ms to set
    /// (0 renews; a large value gives the line back at once, for others to take), then entry ids. Returns the lines renewed.
    /// </summary>
    public const string Renew = """
        local renewed = 0
        for i = 3, #ARGV do
          local pending = redis.call('XPENDING', KEYS[1], 'workers', ARGV[i], ARGV[i], 1)
          if #pending > 0 and pending[1][2] == ARGV[1] then
            redis.call('XCLAIM', KEYS[1], 'workers', ARGV[1], 0, ARGV[i], 'IDLE', ARGV[2], 'JUSTID')
            renewed = renewed + 1
          end
        end
        return renewed
        """;
}
