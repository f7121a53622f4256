using System.Globalization;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Sluice.Redis.Batch;

/// <summary>Reading the results back, in the batch's order, a page at a time.</summary>
public sealed partial class RedisBatch
{
    /// <summary>Lines read per page when results are read back: what is held in memory at once.</summary>
    private const int ResultsPage = 500;

    /// <summary>
    /// The recorded results in the batch's order (its input's order), a page of lines at a time, so memory stays
    /// bounded whatever the batch's size. Lines without a result yet are skipped: check
    /// <see cref="RedisBatchProgress.IsComplete"/> first for a complete set.
    /// </summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The results.</returns>
    public async IAsyncEnumerable<RedisBatchResult> ReadResultsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RedisValue from = "-";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await _db.StreamRangeAsync(_keys.Lines, from, "+", ResultsPage).ConfigureAwait(false);
            if (page.Length == 0)
            {
                yield break;
            }

            var values = await _db.HashGetAsync(_keys.Results, [.. page.Select(e => e["id"])]).ConfigureAwait(false);
            for (int i = 0; i < page.Length; i++)
            {
                if (values[i].IsNull)
                {
                    continue;
                }

                string value = values[i].ToString();
                yield return new RedisBatchResult(
                    page[i]["id"].ToString(),
                    int.TryParse(page[i]["n"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int number) ? number : 0,
                    value.Length > 0 ? value[1..] : value,
                    value.StartsWith('F'));
            }

            if (page.Length < ResultsPage)
            {
                yield break;
            }

            // Exclusive start (Redis 6.2+): the page after the last entry read.
            from = "(" + page[^1].Id;
        }
    }
}
