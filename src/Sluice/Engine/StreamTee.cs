using System.Buffers;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// Keeps a copy of a streamed body as it passes, up to a bound, and hands it on once — only when the stream ended
/// cleanly with its terminator and every byte of it passed through here. A body larger than the bound is dropped as
/// soon as it passes it, so a long stream never holds more than the bound.
/// </summary>
internal sealed class StreamTee(int maxBytes, Func<ReadOnlyMemory<byte>, TokenUsage, ValueTask> onComplete)
{
    private ArrayBufferWriter<byte>? _copy = new(Math.Min(maxBytes, 16 * 1024));
    private int _completed;

    /// <summary>Copies a chunk, or drops the copy for good once the body passes the bound.</summary>
    public void Append(ReadOnlySpan<byte> chunk)
    {
        if (_copy is not { } copy)
        {
            return;
        }

        if (chunk.Length > maxBytes - copy.WrittenCount)
        {
            _copy = null;
            return;
        }

        copy.Write(chunk);
    }

    /// <summary>The stream ended with its terminator: hands the copy on, once.</summary>
    public ValueTask CompleteAsync(TokenUsage usage)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0 || _copy is not { } copy)
        {
            return ValueTask.CompletedTask;
        }

        _copy = null;
        return onComplete(copy.WrittenMemory, usage);
    }
}
