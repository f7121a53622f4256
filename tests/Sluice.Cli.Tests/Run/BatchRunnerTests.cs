using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

/// <summary>What the runner puts on the wire for a line, through a recording transport.</summary>
public sealed class BatchRunnerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-runner-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CustomIdHeader_IsPercentEncoded_AndDecodesBackToTheId_WhileTheJournalKeepsTheIdItself()
    {
        // "résumé-1" went into the header as it was (not a valid header value); a header only ever carries visible ASCII.
        string[] ids = ["post-17", "résumé-1", "中文", "a%41 b", "emoji-😀", "quote\"and\\back"];
        string input = Path.Combine(_directory, "in.jsonl");
        File.WriteAllLines(input, ids.Select(id => JsonSerializer.Serialize(new
        {
            custom_id = id,
            method = "POST",
            url = "/v1/chat/completions",
            body = new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } },
        })), new UTF8Encoding(false));
        var validation = await RequestFile.ValidateAsync(input, default).WaitAsync(Bound);
        Assert.Equal(0, validation.ProblemCount);
        var transport = new RecordingTransport();
        var settings = Settings(input);

        var journal = RunJournal.Open(settings.JournalPath, validation.Fingerprint, "in.jsonl");
        await using (journal)
        {
            using var runner = new BatchRunner(settings, journal, new RunCounters { Total = ids.Length, AlreadyDone = 0 }, TimeProvider.System, new Random(1), transport);
            await runner.RunAsync(new HashSet<string>(), validation, default).WaitAsync(Bound);
            Assert.Equal(ids.Order(StringComparer.Ordinal), journal.ReadFinishedIds().Order(StringComparer.Ordinal));
        }

        Assert.Equal(ids.Length, transport.Headers.Count);
        Assert.All(transport.Headers, header => Assert.True(header.All(c => c is > ' ' and < '\u007F'), header));
        Assert.Equal(ids.Order(StringComparer.Ordinal), transport.Headers.Select(Uri.UnescapeDataString).Order(StringComparer.Ordinal));
        Assert.Contains("post-17", transport.Headers);
        Assert.Contains("r%C3%A9sum%C3%A9-1", transport.Headers);
        Assert.Contains("a%2541%20b", transport.Headers);
    }

    [Theory]
    [InlineData("crlf\r\nX-Injected: yes")]
    [InlineData("nul\0")]
    [InlineData("\ud800lone")]
    public void CustomIdHeader_EvenForAnIdValidationRefuses_IsOneHeaderValue(string id)
    {
        // Validation refuses these ids; the encoding alone would still keep them to one visible-ASCII value.
        string encoded = CustomIdHeader.Encode(id);

        Assert.True(encoded.All(c => c is > ' ' and < '\u007F'), encoded);
        using var message = new HttpRequestMessage();
        message.Headers.Add(CustomIdHeader.Name, encoded);
    }

    [Fact]
    public async Task AProvidersErrorWording_ReachesTheSummaryAsOneLine()
    {
        // The first failure is printed to the terminal: a provider's message must not clear the screen or forge lines.
        // (The engine folds a provider's control characters already; the runner escapes whatever else reaches it.)
        string input = Path.Combine(_directory, "in.jsonl");
        File.WriteAllText(input, """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}""" + "\n");
        var validation = await RequestFile.ValidateAsync(input, default).WaitAsync(Bound);
        var transport = new RecordingTransport
        {
            Status = HttpStatusCode.BadRequest,
            Body = """{"error":{"message":"bad\nline 2: forged\u001b[2J","type":"invalid_request_error","code":"bad"}}""",
        };
        var settings = Settings(input);

        var journal = RunJournal.Open(settings.JournalPath, validation.Fingerprint, "in.jsonl");
        await using (journal)
        {
            using var runner = new BatchRunner(settings, journal, new RunCounters { Total = 1, AlreadyDone = 0 }, TimeProvider.System, new Random(1), transport);
            await runner.RunAsync(new HashSet<string>(), validation, default).WaitAsync(Bound);

            Assert.NotNull(runner.FirstFailure);
            Assert.DoesNotContain(runner.FirstFailure, char.IsControl);
            Assert.Contains("bad line 2: forged", runner.FirstFailure, StringComparison.Ordinal);
        }
    }

    private RunSettings Settings(string input) => new()
    {
        InputPath = input,
        ResultsPath = Path.Combine(_directory, "out.jsonl"),
        ErrorsPath = Path.Combine(_directory, "out.errors.jsonl"),
        JournalPath = Path.Combine(_directory, "out.jsonl.journal"),
        BaseUrl = new Uri("http://127.0.0.1:9/"),
        ApiKey = "sk-test",
        Concurrency = 4,
        AdaptiveConcurrency = false,
    };

    private sealed class RecordingTransport : HttpMessageHandler
    {
        public ConcurrentBag<string> Headers { get; } = [];

        public HttpStatusCode Status { get; init; } = HttpStatusCode.OK;

        public string Body { get; init; } = """{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            foreach (string value in request.Headers.GetValues(CustomIdHeader.Name))
            {
                Headers.Add(value);
            }

            return Task.FromResult(new HttpResponseMessage(Status) { Content = new StringContent(Body, Encoding.UTF8, "application/json") });
        }
    }
}
