using System.Text.Json;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// Reads a results file in the OpenAI Batch API output format into a row's tally: a request succeeded when its line
/// has status 200 and a chat completion for a body, and each request counts once. A request with no line, a line that
/// is not JSON, or one that names a request twice, is a loss.
/// </summary>
internal static class ResultsFile
{
    public static async Task CountAsync(string path, int requests, ClientTally tally, string missingReason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tally);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int unreadable = 0;
        if (File.Exists(path))
        {
            foreach (string line in await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false))
            {
                if (line.Length == 0)
                {
                    continue;
                }

                string? id;
                string? problem;
                try
                {
                    using var document = JsonDocument.Parse(line);
                    (id, problem) = Judge(document.RootElement);
                }
                catch (JsonException)
                {
                    unreadable++;
                    continue;
                }

                if (id is null || !seen.Add(id))
                {
                    unreadable++;
                    continue;
                }

                tally.CountEnd(problem);
            }
        }

        // Whatever has no line of its own was lost: its line was unreadable, or it never got one.
        for (int i = seen.Count; i < requests; i++)
        {
            tally.CountEnd(unreadable-- > 0 ? "results line not one JSON value" : missingReason);
        }
    }

    private static (string? Id, string? Problem) Judge(JsonElement line)
    {
        string? id = line.TryGetProperty("custom_id", out var customId) ? customId.GetString() : null;
        if (!line.TryGetProperty("response", out var response) || response.ValueKind != JsonValueKind.Object)
        {
            return (id, "no response");
        }

        int status = response.TryGetProperty("status_code", out var code) ? code.GetInt32() : 0;
        if (status != 200)
        {
            return (id, $"HTTP {status}");
        }

        return (id, response.TryGetProperty("body", out var body) ? Replies.Problem(body) : "no body");
    }
}
