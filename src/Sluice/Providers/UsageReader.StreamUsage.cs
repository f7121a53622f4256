using System.Text.Json;

namespace Sluice.Providers;

internal static partial class UsageReader
{
    /// <summary>
    /// Follows a streamed answer's usage, one SSE data payload at a time: OpenAI's final usage chunk (asked for with
    /// <see cref="EnsureStreamUsage(string, byte[])"/>), the Responses API's <c>response.completed</c> event, or Anthropic's
    /// <c>message_start</c> (input tokens) and <c>message_delta</c> (output tokens so far) events. Not thread-safe: one
    /// instance follows one stream.
    /// </summary>
    public sealed class StreamUsage
    {
        private long? _total;
        private long? _input;
        private long? _output;
        private long? _cachedInput;

        /// <summary>The stream's total tokens so far, or <see langword="null"/> when it has reported none.</summary>
        public long? Total => _total ?? Sum(_input, _output);

        /// <summary>The stream's usage so far: total, input and output, each <see langword="null"/> until reported.</summary>
        public TokenUsage Usage => new(Total, _input, _output) { CachedInput = _cachedInput };

        /// <summary>Reads one event's data. Payloads without usage, <c>[DONE]</c> and malformed JSON are ignored.</summary>
        /// <param name="dataPayload">The bytes after <c>data: </c> (a whole <c>data:</c> line is accepted too).</param>
        public void Observe(ReadOnlySpan<byte> dataPayload)
        {
            if (SseLine.TryGetData(dataPayload, out var payload))
            {
                dataPayload = payload;
            }

            dataPayload = dataPayload.TrimStart(" \t"u8);
            if (dataPayload.IsEmpty || dataPayload[0] != (byte)'{' || !JsonBody.TryParse(dataPayload, out var document))
            {
                return;
            }

            using (document)
            {
                var root = document.RootElement;
                switch (JsonBody.GetText(root, "type"))
                {
                    case "message_start" when root.TryGetProperty("message", out var message):
                        ObserveAnthropic(message);
                        break;
                    case "message_delta":
                        ObserveAnthropic(root);
                        break;
                    default:
                        var usage = FromAnswer(root);
                        _total = usage.Total ?? _total;
                        _input = usage.Input ?? _input;
                        _output = usage.Output ?? _output;
                        _cachedInput = usage.CachedInput ?? _cachedInput;
                        break;
                }
            }
        }

        // Anthropic reports input tokens at the start and cumulative output tokens in each delta; a later report wins.
        private void ObserveAnthropic(JsonElement carrier)
        {
            if (carrier.ValueKind != JsonValueKind.Object || !carrier.TryGetProperty("usage", out var usage) ||
                usage.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            _input = Input(usage) ?? _input;
            _output = Count(usage, "output_tokens") ?? _output;
            _cachedInput = Count(usage, "cache_read_input_tokens") ?? _cachedInput;
        }
    }
}
