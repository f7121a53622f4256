using System.Globalization;

namespace Sluice.Cli.Data;

/// <summary>Problems found in one pass over a data file: all counted, the first <see cref="Shown"/> kept to print.</summary>
internal sealed class ErrorList
{
    public const int Shown = 20;

    private readonly List<string> _first = [];

    public long Count { get; private set; }

    public IReadOnlyList<string> First => _first;

    public void Add(string error)
    {
        Count++;
        if (_first.Count < Shown)
        {
            _first.Add(error);
        }
    }

    public async Task WriteAsync(TextWriter writer, string command, string what)
    {
        foreach (string error in _first)
        {
            await writer.WriteLineAsync($"{command}: {Common.TerminalText.Escape(error)}").ConfigureAwait(false);
        }

        string more = Count > _first.Count ? string.Create(CultureInfo.InvariantCulture, $" ({Count - _first.Count:N0} more not shown)") : "";
        await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{command}: {Count:N0} problem{(Count == 1 ? "" : "s")} in {what}{more}; nothing was written.")).ConfigureAwait(false);
    }
}
