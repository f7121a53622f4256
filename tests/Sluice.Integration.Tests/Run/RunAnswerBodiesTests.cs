using System.Text;
using System.Text.Json;
using Sluice.Integration.Tests.Support;

namespace Sluice.Integration.Tests.Run;

/// <summary>
/// <c>sluice run</c> against a server that answers the way real servers do, not the way our mock does: JSON ending in
/// a newline, pretty-printed JSON with CRLFs, HTML pages, audio and file bytes, plain text, nothing. The results file
/// stays JSONL — one line per custom_id, each parsable — and no answer is retried for its body.
/// </summary>
public sealed class RunAnswerBodiesTests
{
    private const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi\nthere"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
    private const string Page = "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>nginx</body>\r\n</html>\r\n";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, NewLine = "\r\n" };

    private static readonly byte[] Audio = [0x49, 0x44, 0x33, 0x04, 0x00, 0xFF, 0xFB, 0x90, 0x64, 0x0A, 0x0D, 0x0A, 0xC3];
    private static readonly byte[] Zip = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x80, 0xFE, 0x0A];

    [Fact]
    public async Task EveryKindOfBody_GivesOneParsableLinePerCustomId_AndNoRetries()
    {
        using var files = new BatchFiles(10);
        await using var server = await LoopbackServer.StartAsync(http => http.Request.Headers["X-Sluice-Custom-Id"].ToString() switch
        {
            "req-1" or "req-2" => LoopbackServer.WriteAsync(http, 200, "application/json", Utf8(Completion + "\n")),
            "req-3" => LoopbackServer.WriteAsync(http, 200, "application/json; charset=utf-8", Utf8(Pretty(Completion))),
            "req-4" => LoopbackServer.WriteAsync(http, 200, "text/html", Utf8(Page)),
            "req-5" => LoopbackServer.WriteAsync(http, 400, "text/html", Utf8(Page)),
            "req-6" => LoopbackServer.WriteAsync(http, 200, "audio/mpeg", Audio),
            "req-7" => LoopbackServer.WriteAsync(http, 200, "application/octet-stream", Zip),
            "req-8" => LoopbackServer.WriteAsync(http, 200, "text/plain", Utf8("A transcription.\r\nSecond line.\n")),
            "req-9" => LoopbackServer.WriteAsync(http, 200, "application/json", []),
            _ => LoopbackServer.WriteAsync(http, 200, null, Utf8(Completion + "\r\n")),
        });

        var (exitCode, output, error) = await files.RunAsync(server.BaseUrl);

        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{error}");
        string text = File.ReadAllText(files.Results);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        string[] raw = text[..^1].Split('\n');
        Assert.Equal(files.Ids.Count, raw.Length);
        Assert.All(raw, line => Assert.DoesNotContain('\r', line));
        var lines = raw.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));

        var bodies = lines.ToDictionary(BatchFiles.IdOf, l => l.GetProperty("response"));
        Assert.Equal("Hi\nthere", bodies["req-1"].GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(Completion, bodies["req-3"].GetProperty("body").GetRawText());
        Assert.Equal(Completion, bodies["req-10"].GetProperty("body").GetRawText());
        Assert.Equal(Page, bodies["req-4"].GetProperty("body").GetString());
        Assert.Equal(Audio, Base64Body(bodies["req-6"]));
        Assert.Equal(Zip, Base64Body(bodies["req-7"]));
        Assert.Equal("A transcription.\r\nSecond line.\n", bodies["req-8"].GetProperty("body").GetString());
        Assert.Equal("", bodies["req-9"].GetProperty("body").GetString());

        var failed = Assert.Single(BatchFiles.ReadLines(files.Errors));
        Assert.Equal("req-5", BatchFiles.IdOf(failed));
        Assert.Equal(400, failed.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal(Page, failed.GetProperty("response").GetProperty("body").GetString());

        // One attempt each: nothing was retried for what its body was.
        Assert.Equal(files.Ids.Order(), server.Requests.Select(r => r.CustomId).Order());
    }

    [Fact]
    public async Task LogFormatJson_ProviderTextWithLineBreaks_EveryLogLineIsOneJsonObject()
    {
        using var files = new BatchFiles(5);
        const string quota = """{"error":{"message":"You exceeded your current quota.\nSee:\r\n  \"billing\" \u2028 <b>page</b>","type":"insufficient_quota","code":"insufficient_quota"}}""";
        await using var server = await LoopbackServer.StartAsync(http => LoopbackServer.WriteAsync(http, 429, "application/json", Utf8(quota + "\n")));

        var (exitCode, output, error) = await files.RunAsync(server.BaseUrl, "--log-format", "json");

        Assert.True(exitCode == 3, $"exit {exitCode}\n{output}\n{error}");
        var lines = (output + error).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var events = lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var stopped = Assert.Single(events, e => e.GetProperty("event").GetString() == "stopped");
        Assert.Contains("You exceeded your current quota. See:", stopped.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static byte[] Base64Body(JsonElement response)
    {
        Assert.Equal("base64", response.GetProperty("body_encoding").GetString());
        return response.GetProperty("body").GetBytesFromBase64();
    }

    private static string Pretty(string json) =>
        JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, Indented) + "\r\n";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
