using System.CommandLine;
using System.Net;
using System.Net.Sockets;

namespace Sluice.Cli.Tests.Proxy;

/// <summary>What <c>sluice proxy</c> refuses before it listens: each problem one clear line, exit 2 (or 4 for a port in use: 1 means "some requests failed").</summary>
public sealed class ProxyUsageTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Help_ExplainsEveryOption()
    {
        var (exitCode, output, _) = await InvokeAsync("proxy", "--help");

        Assert.Equal(0, exitCode);
        foreach (string option in new[] { "--upstream", "--listen", "--allow-remote", "--rpm", "--tpm", "--concurrency", "--api-key-env", "--provider", "--config", "--max-wait", "--max-queue", "--max-queue-total", "--max-partitions", "--partition-idle", "--max-models", "--max-body-mb", "--max-buffered-mb", "--max-attempts", "--timeout", "--drain-timeout", "--proxy-key-env" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }

        Assert.Contains("127.0.0.1:8787", output, StringComparison.Ordinal);
        Assert.Contains("default: auto", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--concurrency", "lots", "--concurrency must be a whole number from 1 to 100000, or auto, not 'lots'.")]
    [InlineData("--rpm", "0", "--rpm must be a whole number at least 1, not '0'.")]
    [InlineData("--max-wait", "forever", "--max-wait: 'forever' is not a duration")]
    [InlineData("--provider", "gemini", "--provider must be openai, azure, anthropic or compatible, not 'gemini'.")]
    [InlineData("--listen", "nowhere", "--listen: 'nowhere' is not ADDRESS:PORT")]
    public async Task BadOptionValue_NamesOptionAndValue_Exit2(string option, string value, string expected)
    {
        var (exitCode, _, error) = await InvokeAsync("proxy", "--upstream", "http://127.0.0.1:1", option, value);

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadUpstream_Exit2()
    {
        var (exitCode, _, error) = await InvokeAsync("proxy", "--upstream", "api.openai.com");

        Assert.Equal(2, exitCode);
        Assert.Equal("sluice proxy: --upstream: 'api.openai.com' is not an http:// or https:// URL", error.Trim());
    }

    [Fact]
    public async Task MissingKeyVariable_Exit2()
    {
        var (exitCode, _, error) = await InvokeAsync("proxy", "--upstream", "https://api.openai.com", "--api-key-env", "SLUICE_PROXY_TEST_UNSET_KEY");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("sluice proxy: no API key for upstream 'default': set SLUICE_PROXY_TEST_UNSET_KEY", error.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonLoopback_WithoutAllowRemote_Exit2()
    {
        var (exitCode, _, error) = await InvokeAsync("proxy", "--upstream", "http://127.0.0.1:1", "--listen", "0.0.0.0:8787");

        Assert.Equal(2, exitCode);
        Assert.Contains("add --allow-remote", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortInUse_OneLine_Exit4()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, _, error) = await InvokeAsync("proxy", "--upstream", "http://127.0.0.1:1", "--listen", $"127.0.0.1:{port}");

        Assert.Equal(4, exitCode);
        Assert.StartsWith($"sluice proxy: cannot listen on 127.0.0.1:{port}:", error.Trim(), StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }
}
