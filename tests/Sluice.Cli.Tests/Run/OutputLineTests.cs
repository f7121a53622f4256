using System.Text;
using System.Text.Json;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

public sealed class OutputLineTests
{
    [Fact]
    public void Success_IsABatchApiOutputLine_WithTheBodyAsJson()
    {
        var answer = new ProviderAnswer(200, "req_1", Encoding.UTF8.GetBytes("""{"id":"chatcmpl-1","choices":[]}"""));

        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_1", "post-1", answer, error: null));

        var root = line.RootElement;
        Assert.Equal(["id", "custom_id", "response", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("post-1", root.GetProperty("custom_id").GetString());
        Assert.Equal(200, root.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("req_1", root.GetProperty("response").GetProperty("request_id").GetString());
        Assert.Equal("chatcmpl-1", root.GetProperty("response").GetProperty("body").GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
    }

    [Fact]
    public void Failure_CarriesTheErrorAndTheLastAnswer_ANonJsonBodyAsAString()
    {
        var answer = new ProviderAnswer(502, null, Encoding.UTF8.GetBytes("<html>bad gateway</html>"));

        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_2", "post-2", answer, ("attempts_exhausted", "HTTP 502")));

        var root = line.RootElement;
        Assert.Equal("<html>bad gateway</html>", root.GetProperty("response").GetProperty("body").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("response").GetProperty("request_id").ValueKind);
        Assert.Equal("attempts_exhausted", root.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("HTTP 502", root.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public void Failure_WithoutAnyAnswer_HasANullResponse()
    {
        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_3", "post-3", answer: null, ("request_failed", "connection reset")));

        Assert.Equal(JsonValueKind.Null, line.RootElement.GetProperty("response").ValueKind);
    }
}
