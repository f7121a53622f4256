using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
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
        // The pace is read off the injected clock: each token waits on a timer of one token's time and is sent only
        // when the test moves the clock past it. No real delay decides anything.
        var time = new TimerRecordingTimeProvider();
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.TimePerOutputToken = TimeSpan.FromSeconds(1);
            o.ReplyTokens = 2;
        });
        using var response = await mock.SendAsync(RunningMock.Chat("Hi", stream: true));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().Within());

        var roleChunk = await reader.ReadLineAsync().Within();
        Assert.Contains("\"role\":\"assistant\"", roleChunk, StringComparison.Ordinal);
        Assert.Equal("", await reader.ReadLineAsync().Within());

        for (int waits = 1; waits <= 2; waits++)
        {
            var line = reader.ReadLineAsync();
            await Bounded.UntilAsync(() => time.Started(TimeSpan.FromSeconds(1)) == waits);
            // The clock has not moved since the wait began, so the token cannot have been sent.
            Assert.False(line.IsCompleted, $"token {waits} arrived before its time");

            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Contains("\"content\":", await line.Within(), StringComparison.Ordinal);
            Assert.Equal("", await reader.ReadLineAsync().Within());
        }
    }

    /// <summary>A fake clock that counts the timers started on it, by due time: the server's waits, made visible.</summary>
    private sealed class TimerRecordingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
        private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

        public int Started(TimeSpan dueTime) => _dueTimes.Count(d => d == dueTime);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _dueTimes.Enqueue(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
