using System.Net;
using System.Text;
using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

public class StreamingTests
{
    [Fact]
    public async Task ChatStream_IsWellFormed_AndEndsWithUsageAndDone()
    {
        await using var mock = await RunningMock.StartAsync();
        using var plain = await mock.SendAsync(RunningMock.Chat("Stream me please", maxTokens: 50));
        var expected = (await plain.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();

        using var response = await mock.SendAsync(RunningMock.Chat("Stream me please", maxTokens: 50, stream: true, includeUsage: true));
        var events = await response.EventsAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.All(events, e => Assert.Null(e.Event));
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data).RootElement.Clone()).ToList();
        var id = chunks[0].GetProperty("id").GetString();
        Assert.StartsWith("chatcmpl-", id, StringComparison.Ordinal);
        Assert.All(chunks, c =>
        {
            Assert.Equal(id, c.GetProperty("id").GetString());
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal("gpt-4o-mini", c.GetProperty("model").GetString());
        });
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());

        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(20, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(4, usageChunk.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));

        var finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("stop", finish.GetProperty("finish_reason").GetString());
        var content = new StringBuilder();
        foreach (var chunk in chunks.Skip(1).SkipLast(2))
        {
            var choice = chunk.GetProperty("choices")[0];
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("finish_reason").ValueKind);
            content.Append(choice.GetProperty("delta").GetProperty("content").GetString());
        }

        Assert.Equal(expected, content.ToString());
        Assert.Equal(20, chunks.Count - 3);
    }

    [Fact]
    public async Task ChatStream_WithoutIncludeUsage_HasNoUsage_AndStopsAtTheCap()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 3, stream: true));
        var events = await response.EventsAsync();

        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data).RootElement.Clone()).ToList();
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(5, chunks.Count);
    }

    [Fact]
    public async Task MessagesStream_UsesAnthropicEventsInOrder()
    {
        await using var mock = await RunningMock.StartAsync();
        using var plain = await mock.SendAsync(RunningMock.Messages("Stream me please", maxTokens: 8));
        var expected = (await plain.JsonAsync()).GetProperty("content")[0].GetProperty("text").GetString();

        using var response = await mock.SendAsync(RunningMock.Messages("Stream me please", maxTokens: 8, stream: true));
        var events = await response.EventsAsync();

        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var names = events.Select(e => e.Event).ToList();
        Assert.Equal(
            new[] { "message_start", "content_block_start", "ping" }
                .Concat(Enumerable.Repeat("content_block_delta", 8))
                .Concat(["content_block_stop", "message_delta", "message_stop"]),
            names);
        var data = events.Select(e => JsonDocument.Parse(e.Data).RootElement.Clone()).ToList();
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(events[i].Event, data[i].GetProperty("type").GetString());
        }

        var message = data[0].GetProperty("message");
        Assert.StartsWith("msg_01", message.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, message.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(0, message.GetProperty("content").GetArrayLength());
        var text = string.Concat(data.Where(d => d.GetProperty("type").GetString() == "content_block_delta")
            .Select(d => d.GetProperty("delta").GetProperty("text").GetString()));
        Assert.Equal(expected, text);
        var delta = data[^2];
        Assert.Equal("max_tokens", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(8, delta.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_IsPacedByTheTimePerOutputToken()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.TimePerOutputToken = TimeSpan.FromSeconds(1);
            o.ReplyTokens = 2;
        });
        using var response = await mock.SendAsync(RunningMock.Chat("Hi", stream: true));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().Within());

        var roleChunk = await reader.ReadLineAsync().Within();
        Assert.Contains("\"role\":\"assistant\"", roleChunk, StringComparison.Ordinal);
        Assert.Equal("", await reader.ReadLineAsync().Within());

        var firstToken = reader.ReadLineAsync();
        await Task.Delay(50);
        Assert.False(firstToken.IsCompleted, "the first token arrived before its time");

        Assert.Contains("\"content\":\"Mock\"", await mock.Time!.AdvanceUntilDoneAsync(firstToken, TimeSpan.FromSeconds(1)), StringComparison.Ordinal);
    }
}
