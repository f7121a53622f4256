using System.CommandLine;
using Sluice.Cli.Proxy;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

/// <summary><c>sluice proxy hash-key</c>: the SHA-256 of a key read from stdin, or a new random key and its hash.</summary>
public sealed class HashKeyCommandTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string? input, bool makeNew = false)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await HashKeyCommand.RunAsync(new StringReader(input ?? ""), output, error, makeNew).WaitAsync(Bound);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("abc\n")]
    [InlineData("abc")]
    [InlineData("  abc \r\n")]
    [InlineData("abc\nsecond line ignored\n")]
    public async Task Stdin_PrintsTheLowerCaseHexSha256OfTheTrimmedLine(string input)
    {
        var (exit, output, error) = await RunAsync(input);

        Assert.Equal(0, exit);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" + System.Environment.NewLine, output);
        Assert.Empty(error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("\n")]
    [InlineData("   \n")]
    public async Task NoKey_Exit2_AndSaysHow(string? input)
    {
        var (exit, output, error) = await RunAsync(input);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("no key on stdin", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_PrintsA256BitKeyAndItsHash_DifferentEachTime()
    {
        var (exit, output, _) = await RunAsync(null, makeNew: true);
        var (_, other, _) = await RunAsync(null, makeNew: true);

        Assert.Equal(0, exit);
        string[] lines = output.Split(System.Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        string key = lines[0]["key:".Length..].Trim();
        string hash = lines[1]["key_sha256:".Length..].Trim();
        Assert.StartsWith(HashKeyCommand.KeyPrefix, key, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(Base64(key[HashKeyCommand.KeyPrefix.Length..])).Length);
        Assert.Equal(ProxyTenant.HashKey(key), hash);
        Assert.NotEqual(output, other);
    }

    [Fact]
    public async Task Help_ExplainsStdinAndNew()
    {
        var output = new StringWriter();
        int exit = await SluiceCommandLine.InvokeAsync(["proxy", "hash-key", "--help"], new InvocationConfiguration { Output = output, Error = new StringWriter() }).WaitAsync(Bound);

        Assert.Equal(0, exit);
        Assert.Contains("stdin", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("--new", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("key_sha256", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_ThroughTheCommandLine_PrintsKeyAndHash()
    {
        var output = new StringWriter();
        int exit = await SluiceCommandLine.InvokeAsync(["proxy", "hash-key", "--new"], new InvocationConfiguration { Output = output, Error = new StringWriter() }).WaitAsync(Bound);

        Assert.Equal(0, exit);
        Assert.Contains("key:        sk-sluice-", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("key_sha256: ", output.ToString(), StringComparison.Ordinal);
    }

    private static string Base64(string base64Url)
    {
        string padded = base64Url.Replace('-', '+').Replace('_', '/');
        return padded + new string('=', (4 - (padded.Length % 4)) % 4);
    }
}
