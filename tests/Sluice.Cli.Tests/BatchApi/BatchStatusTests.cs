using System.Text.Json;
using Sluice.Cli.BatchApi;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchStatusTests
{
    private static BatchStatus Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return BatchStatus.Parse(document.RootElement);
    }

    [Fact]
    public void Parse_TheBatchObject_IdStatusFilesCountsAndMetadata()
    {
        var status = Parse("""
            {"id":"batch_abc","object":"batch","endpoint":"/v1/chat/completions","errors":null,"input_file_id":"file-in",
             "completion_window":"24h","status":"completed","output_file_id":"file-out","error_file_id":"file-err",
             "request_counts":{"total":100,"completed":95,"failed":5},"metadata":{"sluice_run":"sluice-1","part":"3"}}
            """);

        Assert.Equal(("batch_abc", "completed", "file-out", "file-err"), (status.Id, status.Status, status.OutputFileId, status.ErrorFileId));
        Assert.Equal((100, 95, 5), (status.Total, status.Completed, status.Failed));
        Assert.Equal("3", status.Metadata["part"]);
        Assert.True(status.Ended);
        Assert.Null(status.Error);
    }

    [Theory]
    [InlineData("validating", false)]
    [InlineData("in_progress", false)]
    [InlineData("finalizing", false)]
    [InlineData("cancelling", false)]
    [InlineData("completed", true)]
    [InlineData("failed", true)]
    [InlineData("expired", true)]
    [InlineData("cancelled", true)]
    public void Ended_OnlyForTheFinalStatuses(string value, bool ended) =>
        Assert.Equal(ended, Parse($$"""{"id":"b","status":"{{value}}"}""").Ended);

    [Fact]
    public void Parse_AFailedBatch_CarriesItsFirstError()
    {
        var status = Parse("""{"id":"b","status":"failed","errors":{"object":"list","data":[{"code":"token_limit_exceeded","message":"Enqueued token limit reached","param":null,"line":null}]},"output_file_id":null}""");

        Assert.Equal(("token_limit_exceeded", "Enqueued token limit reached"), status.Error);
        Assert.Null(status.OutputFileId);
    }
}
