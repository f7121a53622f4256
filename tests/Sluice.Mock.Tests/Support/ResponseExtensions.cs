using System.Text.Json;

namespace Sluice.Mock.Tests.Support;

internal static class ResponseExtensions
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync().Within();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The single value of a response header, or null when it is absent.</summary>
    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) :
        response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues) : null;

    /// <summary>Reads a server-sent event stream to its end: each event's name (or null) and data.</summary>
    public static async Task<List<(string? Event, string Data)>> EventsAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync().Within();
        var events = new List<(string? Event, string Data)>();
        foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            string? data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line["data: ".Length..];
                }
                else
                {
                    throw new FormatException($"Not a server-sent event line: '{line}'");
                }
            }

            events.Add((name, data ?? throw new FormatException($"An event without data: '{block}'")));
        }

        return events;
    }
}
