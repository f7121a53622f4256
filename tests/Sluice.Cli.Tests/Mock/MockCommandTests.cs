using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;

namespace Sluice.Cli.Tests.Mock;

public class MockCommandTests
{
    private static readonly string[] DocumentedOptions =
    [
        "--listen", "--allow-remote", "--api-root", "--rpm", "--tpm", "--input-tpm", "--output-tpm", "--concurrency", "--burst",
        "--latency", "--jitter", "--token-latency", "--no-rate-limit-headers", "--default-max-tokens", "--reply-tokens",
        "--model", "--any-model", "--seed", "--audit-window", "--fault-500", "--fault-502", "--fault-503", "--fault-529",
        "--fault-reset", "--fault-hang", "--fault-malformed", "--fault-stream-cut", "--fault-auth-after",
        "--fault-quota-after", "--context-limit", "--batch-time", "--batch-window", "--batch-fail", "--max-batch-requests",
        "--max-batch-bytes", "--max-enqueued-tokens", "--max-batches",
    ];

    [Fact]
    public async Task Help_DocumentsEveryOption()
    {
        var (exitCode, output, _) = await InvokeAsync(["mock", "--help"]);

        Assert.Equal(0, exitCode);
        var mock = SluiceCommandLine.Build().Subcommands.Single(c => c.Name == "mock");
        var options = mock.Options.Where(o => o.Name != "--help").ToList();
        Assert.Equal(DocumentedOptions.Order(), options.Select(o => o.Name).Order());
        foreach (var option in options)
        {
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{option.Name} has no description");
            var firstWords = string.Join(' ', option.Description!.Split(' ').Take(3));
            Assert.Matches(new Regex($@"^\s+{Regex.Escape(option.Name)}\b.*{Regex.Escape(firstWords)}", RegexOptions.Multiline), output);
        }

        Assert.Contains("[default: 127.0.0.1:8000]", output, StringComparison.Ordinal);
        Assert.Contains("(default: 1s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortInUse_OneLine_Exit4_NotTheSomeRequestsFailedCode()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, _, error) = await InvokeAsync(["mock", "--listen", $"127.0.0.1:{port}"]);

        Assert.Equal(4, exitCode);
        Assert.StartsWith($"sluice mock: cannot listen on 127.0.0.1:{port}:", error.Trim(), StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Listen_OnANonLoopbackAddress_NeedsAllowRemote()
    {
        var (exitCode, _, error) = await InvokeAsync(["mock", "--listen", "192.0.2.1:8000"]);

        Assert.Equal(SluiceCommandLine.UsageError, exitCode);
        Assert.Contains("--allow-remote", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--burst", "2x")]
    [InlineData("--fault-500", "1.5")]
    [InlineData("--rpm", "0")]
    [InlineData("--listen", "nowhere")]
    public async Task InvalidValues_AreRefused(string option, string value)
    {
        var (exitCode, _, error) = await InvokeAsync(["mock", option, value]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(option, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaultRatesOverOne_AreAUsageError()
    {
        var (exitCode, _, error) = await InvokeAsync(["mock", "--listen", "0", "--fault-500", "0.6", "--fault-hang", "0.6"]);

        Assert.Equal(SluiceCommandLine.UsageError, exitCode);
        Assert.Contains("add up to at most 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mock_PrintsItsUrl_Serves_AndStopsCleanlyWhenCancelled()
    {
        var output = new LineWriter();
        using var cancel = new CancellationTokenSource();
        var parse = SluiceCommandLine.Build().Parse(["mock", "--listen", "127.0.0.1:0", "--rpm", "60", "--fault-500", "0.1"]);
        var run = parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = new StringWriter() }, cancel.Token);

        var line = await output.FirstLineContainingAsync("listening on").Within();
        var url = new Uri(Regex.Match(line, @"http://\S+/").Value);
        using var client = new HttpClient { BaseAddress = url, Timeout = Bounded.Timeout };
        var limits = await client.GetStringAsync("mock/limits").Within();
        await cancel.CancelAsync();
        var exitCode = await run.Within();

        Assert.Contains("\"rpm\":60", limits, StringComparison.Ordinal);
        Assert.Equal(0, exitCode);
        Assert.Contains("stopping", output.ToString(), StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetStringAsync("mock/limits"));
    }

    [Fact]
    public async Task ApiRoot_NotAPlainPath_IsAUsageError()
    {
        var (exitCode, _, error) = await InvokeAsync(["mock", "--listen", "0", "--api-root", "/a/../b"]);

        Assert.Equal(SluiceCommandLine.UsageError, exitCode);
        Assert.Contains("ApiRoot", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiRoot_ThePrintedBaseUrlServesTheApi()
    {
        var output = new LineWriter();
        using var cancel = new CancellationTokenSource();
        var parse = SluiceCommandLine.Build().Parse(["mock", "--listen", "127.0.0.1:0", "--api-root", "/v1beta/openai/"]);
        var run = parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = new StringWriter() }, cancel.Token);

        var line = await output.FirstLineContainingAsync("listening on").Within();
        var baseUrl = Regex.Match(line, @"OpenAI base URL (http://\S+)\)").Groups[1].Value;
        using var client = new HttpClient { Timeout = Bounded.Timeout };
        using var models = await client.GetAsync(baseUrl + "/models").Within();
        await cancel.CancelAsync();
        await run.Within();

        Assert.EndsWith("/v1beta/openai", baseUrl, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, models.StatusCode);
    }

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await SluiceCommandLine.Build().Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).Within();
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>A thread-safe writer that lets a test wait for a line the command prints while it runs.</summary>
    private sealed class LineWriter : TextWriter
    {
        private readonly Lock _lock = new();
        private readonly StringBuilder _text = new();
        private readonly List<(string Fragment, TaskCompletionSource<string> Line)> _waiters = [];

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_lock)
            {
                _text.Append(value);
                if (value != '\n')
                {
                    return;
                }

                var lines = _text.ToString().Split('\n');
                foreach (var (fragment, line) in _waiters)
                {
                    var match = lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal));
                    if (match is not null)
                    {
                        line.TrySetResult(match);
                    }
                }
            }
        }

        public Task<string> FirstLineContainingAsync(string fragment)
        {
            var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                _waiters.Add((fragment, line));
                var match = _text.ToString().Split('\n').FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal));
                if (match is not null)
                {
                    line.TrySetResult(match);
                }
            }

            return line.Task;
        }

        public override string ToString()
        {
            lock (_lock)
            {
                return _text.ToString();
            }
        }
    }
}
