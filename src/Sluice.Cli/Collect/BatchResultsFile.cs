using System.Globalization;
using System.Text;
using Sluice.Redis.Batch;

namespace Sluice.Cli.Collect;

/// <summary>
/// Writes a shared batch's results file (every line's result, in input order, one line per custom_id) and its errors
/// file (the failed ones), as <c>sluice run</c> writes them from its journal. Each is written to a temporary file of
/// this process's own and renamed into place, so two workers writing the same path leave one whole file.
/// </summary>
internal static class BatchResultsFile
{
    /// <summary>Writes both files from Redis, a page at a time.</summary>
    /// <returns>Lines written to the results file and to the errors file.</returns>
    public static async Task<(long Results, long Errors)> WriteAsync(RedisBatch batch, string resultsPath, string errorsPath, CancellationToken cancellationToken)
    {
        string suffix = string.Create(CultureInfo.InvariantCulture, $".{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.tmp");
        string resultsTemporary = resultsPath + suffix;
        string errorsTemporary = errorsPath + suffix;
        long results = 0;
        long errors = 0;
        try
        {
            var encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            var resultsWriter = new StreamWriter(resultsTemporary, append: false, encoding) { NewLine = "\n" };
            await using (resultsWriter.ConfigureAwait(false))
            {
                var errorsWriter = new StreamWriter(errorsTemporary, append: false, encoding) { NewLine = "\n" };
                await using (errorsWriter.ConfigureAwait(false))
                {
                    await foreach (var result in batch.ReadResultsAsync(cancellationToken).ConfigureAwait(false))
                    {
                        await resultsWriter.WriteLineAsync(result.Value.AsMemory(), cancellationToken).ConfigureAwait(false);
                        results++;
                        if (result.Failed)
                        {
                            await errorsWriter.WriteLineAsync(result.Value.AsMemory(), cancellationToken).ConfigureAwait(false);
                            errors++;
                        }
                    }

                    await errorsWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
                    ((FileStream)errorsWriter.BaseStream).Flush(flushToDisk: true);
                }

                await resultsWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
                ((FileStream)resultsWriter.BaseStream).Flush(flushToDisk: true);
            }

            File.Move(errorsTemporary, errorsPath, overwrite: true);
            File.Move(resultsTemporary, resultsPath, overwrite: true);
            return (results, errors);
        }
        finally
        {
            File.Delete(resultsTemporary);
            File.Delete(errorsTemporary);
        }
    }
}
