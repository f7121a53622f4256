using System.Diagnostics;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// Splits lines into parts: one endpoint and one model per part (a provider batch has one endpoint, and limits are
/// per model), each under <see cref="BatchLimits"/>. Pure: lines in, parts out, numbered from a given number. Holds
/// at most one open part per endpoint and model, and only ids and sizes, never bodies.
/// </summary>
internal sealed class BatchPartSplitter(BatchLimits limits, int firstNumber, int attempt)
{
    private readonly Dictionary<(string Url, string Model), Open> _open = [];
    private int _next = firstNumber;

    /// <summary>The number the next part will get.</summary>
    public int NextNumber => _next;

    /// <summary>Adds a line; returns the part it closed, when it did not fit in the open one.</summary>
    public BatchPart? Add(BatchInputLine line)
    {
        var key = (line.Url, line.Model);
        BatchPart? closed = null;
        if (_open.TryGetValue(key, out var open) && !Fits(open, line))
        {
            closed = Close(key, open);
            open = null;
        }

        if (open is null)
        {
            open = new Open();
            _open[key] = open;
        }

        open.Lines.Add(new PartLine(line.CustomId, line.LineNumber));
        open.Bytes += line.Json.Length + 1;
        open.Tokens += line.Tokens;
        Debug.Assert(open.Lines.Count <= limits.MaxRequests, "a part never holds more requests than the limit");
        return closed;
    }

    /// <summary>The parts still open, in the order their first lines came.</summary>
    public IEnumerable<BatchPart> Finish()
    {
        foreach (var key in _open.OrderBy(o => o.Value.Lines[0].LineNumber).Select(o => o.Key).ToList())
        {
            yield return Close(key, _open[key]);
        }
    }

    // A line alone in a part always fits: a line over a limit by itself is the provider's to refuse, with its own error.
    private bool Fits(Open open, BatchInputLine line) =>
        open.Lines.Count + 1 <= limits.MaxRequests
        && open.Bytes + line.Json.Length + 1 <= limits.MaxBytes
        && (limits.MaxEnqueuedTokens is not { } tokens || open.Tokens + line.Tokens <= tokens);

    private BatchPart Close((string Url, string Model) key, Open open)
    {
        _open.Remove(key);
        return new BatchPart(_next++, key.Url, key.Model, open.Lines, open.Bytes, open.Tokens, attempt);
    }

    private sealed class Open
    {
        public List<PartLine> Lines { get; } = [];

        public long Bytes { get; set; }

        public long Tokens { get; set; }
    }
}
