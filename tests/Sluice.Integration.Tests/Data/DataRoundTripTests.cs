using System.CommandLine;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Sluice.Integration.Tests.Run;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Data;

/// <summary>
/// The whole trip in-process: <c>sluice prepare</c> a CSV, <c>sluice run</c> it against the mock on 127.0.0.1,
/// <c>sluice export --join</c> the results back onto the CSV, and read answers.csv again with a CSV library.
/// </summary>
public sealed class DataRoundTripTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-data-e2e-").FullName;

    // Each value is a trap for a CSV writer or reader: quotes, separators, line breaks of both kinds, spaces at
    // the ends, empty, and Unicode beyond the BMP, combining marks and right-to-left text.
    private static readonly string[][] Rows =
    [
        ["p1", "Quotes \"inside\" and, commas", "Line one\nline two\n\nline four"],
        ["p2", "  spaces around  ", "CRLF\r\ninside"],
        ["p3", "Ünïcödé 日本語 🚀 e\u0301", "עברית and العربية, mixed"],
        ["p4", "", "an empty title"],
        ["p5", "\"\"", "only quotes; a tab\there"],
        ["p6", "Ελληνικά, \"κείμενο\"", "ends with a newline\n"],
    ];

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task PrepareRunExport_CsvWithQuotesNewlinesAndUnicode_RoundTripsByteExact()
    {
        string data = PathOf("posts.csv");
        File.WriteAllText(data, Csv(["id", "title", "body"], Rows), new UTF8Encoding(false));
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 60_000 },
            Latency = TimeSpan.FromMilliseconds(5),
        }).WaitAsync(BatchFiles.Bound);

        var prepare = await SluiceAsync("prepare", data, "--template", "{{id}}|{{title}}|{{body}}", "--model", "gpt-4o-mini", "--id-column", "id", "-o", PathOf("batch.jsonl"));
        Assert.True(prepare.ExitCode == 0, prepare.Error);
        var run = await SluiceAsync("run", PathOf("batch.jsonl"), "-o", PathOf("results.jsonl"), "--base-url", mock.BaseUrl.ToString(), "--api-key-env", BatchFiles.KeyVariable, "--no-cache");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var export = await SluiceAsync("export", PathOf("results.jsonl"), "--to", PathOf("answers.csv"), "--join", data, "--id-column", "id");
        Assert.True(export.ExitCode == 0, export.Error);

        using var reader = CsvReader.FromFile(PathOf("answers.csv"), new CsvReaderOptions { HasHeader = true, TrimWhitespace = false }, FileOptions.SequentialScan);
        reader.ReadHeader();
        Assert.Equal(["id", "title", "body", "custom_id", "status", "answer", "error", "input_tokens", "output_tokens", "cost", "cached"], reader.Headers);
        int row = 0;
        while (reader.Read())
        {
            string[] original = Rows[row];
            Assert.Equal<string[]>(original, [reader.GetString(0), reader.GetString(1), reader.GetString(2)]);
            Assert.Equal(original[0], reader.GetString("custom_id"));
            Assert.Equal("ok", reader.GetString("status"));
            // The mock echoes the prompt's start: the answer on this row is this row's.
            Assert.StartsWith($"Mock reply to: {original[0]}|", reader.GetString("answer"), StringComparison.Ordinal);
            Assert.True(int.Parse(reader.GetString("input_tokens"), System.Globalization.CultureInfo.InvariantCulture) > 0);
            row++;
        }

        Assert.Equal(Rows.Length, row);
        Assert.Equal(Rows.Length, mock.GetStats().CustomIds.Distinct);
        Assert.Contains("6 ok", export.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrepareRunExport_HashIds_Jsonl_JoinFindsEveryRow()
    {
        string data = PathOf("posts.jsonl");
        File.WriteAllText(data, string.Join('\n', Rows.Select(r => JsonSerializer.Serialize(new { title = r[1], body = r[2], n = r[0].Length }))) + "\n", new UTF8Encoding(false));
        await using var mock = await MockServer.StartAsync(new MockOptions { Limits = new MockLimits { RequestsPerMinute = 60_000 }, Latency = TimeSpan.FromMilliseconds(5) }).WaitAsync(BatchFiles.Bound);

        Assert.Equal(0, (await SluiceAsync("prepare", data, "-t", "{{body}}", "-m", "claude-haiku-4-5", "--format", "anthropic", "-o", PathOf("batch.jsonl"))).ExitCode);
        var run = await SluiceAsync("run", PathOf("batch.jsonl"), "-o", PathOf("results.jsonl"), "--base-url", mock.BaseUrl.ToString(), "--api-key-env", BatchFiles.KeyVariable, "--provider", "anthropic", "--no-cache");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var export = await SluiceAsync("export", PathOf("results.jsonl"), "--to", PathOf("answers.jsonl"), "--join", data);
        Assert.True(export.ExitCode == 0, export.Error);

        var lines = File.ReadAllLines(PathOf("answers.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Rows.Length, lines.Count);
        for (int i = 0; i < Rows.Length; i++)
        {
            Assert.Equal(Rows[i][1], lines[i].GetProperty("title").GetString());
            Assert.Equal(Rows[i][0].Length, lines[i].GetProperty("n").GetInt32());
            Assert.Equal("ok", lines[i].GetProperty("status").GetString());
            Assert.StartsWith("row-", lines[i].GetProperty("custom_id").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(lines[i].GetProperty("answer").GetString()));
        }
    }

    [Theory]
    [InlineData("chat")]
    [InlineData("anthropic")]
    public async Task PrepareRunExport_WithSchema_FillsAnswerFieldColumns(string format)
    {
        string data = PathOf("posts.csv");
        File.WriteAllText(data, Csv(["id", "title", "body"], Rows), new UTF8Encoding(false));
        File.WriteAllText(PathOf("rating.json"), """
            {"title": "rating", "type": "object", "additionalProperties": false, "required": ["label", "score", "urgent"],
             "properties": {"label": {"type": "string"}, "score": {"type": "number"}, "urgent": {"type": "boolean"}}}
            """);
        await using var mock = await MockServer.StartAsync(new MockOptions { Limits = new MockLimits { RequestsPerMinute = 60_000 }, Latency = TimeSpan.FromMilliseconds(5) }).WaitAsync(BatchFiles.Bound);
        string model = format == "anthropic" ? "claude-haiku-4-5" : "gpt-4o-mini";

        var prepare = await SluiceAsync("prepare", data, "-t", "{{title}}: {{body}}", "-m", model, "--format", format, "--schema", PathOf("rating.json"), "--id-column", "id", "-o", PathOf("batch.jsonl"));
        Assert.True(prepare.ExitCode == 0, prepare.Error);
        var run = await SluiceAsync("run", PathOf("batch.jsonl"), "-o", PathOf("results.jsonl"), "--base-url", mock.BaseUrl.ToString(), "--api-key-env", BatchFiles.KeyVariable, "--provider", format == "anthropic" ? "anthropic" : "openai", "--no-cache");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var export = await SluiceAsync("export", PathOf("results.jsonl"), "--to", PathOf("answers.csv"), "--join", data, "--id-column", "id");
        Assert.True(export.ExitCode == 0, export.Error);

        using var reader = CsvReader.FromFile(PathOf("answers.csv"), new CsvReaderOptions { HasHeader = true, TrimWhitespace = false }, FileOptions.SequentialScan);
        reader.ReadHeader();
        Assert.Equal(["id", "title", "body", "custom_id", "status", "answer.label", "answer.score", "answer.urgent", "error", "input_tokens", "output_tokens", "cost", "cached"], reader.Headers);
        int row = 0;
        while (reader.Read())
        {
            Assert.Equal(Rows[row][0], reader.GetString("custom_id"));
            Assert.Equal("ok", reader.GetString("status"));
            Assert.False(string.IsNullOrWhiteSpace(reader.GetString("answer.label")));
            Assert.True(decimal.TryParse(reader.GetString("answer.score"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _), reader.GetString("answer.score"));
            Assert.Contains(reader.GetString("answer.urgent"), new[] { "true", "false" });
            row++;
        }

        Assert.Equal(Rows.Length, row);
        Assert.Equal(Rows.Length, mock.GetStats().CustomIds.Distinct);
    }

    private static async Task<(int ExitCode, string Output, string Error)> SluiceAsync(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Cli.SluiceCommandLine.InvokeAsync(arguments, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(BatchFiles.Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    // RFC 4180 by hand, so the test does not check the library against itself.
    private static string Csv(string[] header, string[][] rows)
    {
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            text.Append(string.Join(',', row.Select(v => v.IndexOfAny([',', '"', '\n', '\r']) >= 0 || v.Trim() != v ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v))).Append("\r\n");
        }

        return text.ToString();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
