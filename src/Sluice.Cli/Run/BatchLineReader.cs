using System.Buffers;
using System.Security.Cryptography;

namespace Sluice.Cli.Run;

/// <summary>
/// Splits a batch file into lines of bytes, as <see cref="StreamReader.ReadLine"/> splits text (at <c>\n</c>,
/// <c>\r\n</c> or a lone <c>\r</c>, a UTF-8 byte-order mark skipped) but without decoding, so that invalid UTF-8 can be
/// reported where it is rather than replaced, and with a cap on a line's length: a longer line is counted and skipped,
/// never held, so one line without a break cannot take all the memory there is.
/// </summary>
internal sealed class BatchLineReader
{
    /// <summary>The longest line kept: 64 MiB, above the providers' own limits on a request (OpenAI's is 50 MB with images).</summary>
    public const int DefaultMaxLineBytes = 64 << 20;

    private const int ChunkSize = 1 << 16;

    private readonly Stream _stream;
    private readonly IncrementalHash? _hash;
    private readonly int _maxLineBytes;
    private readonly byte[] _chunk = new byte[ChunkSize];
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private int _start;
    private int _end;
    private long _position;
    private bool _endOfStream;
    private bool _started;
    private bool _skipLineFeed;
    private int _lineNumber;

    /// <param name="stream">The file, read from where it stands.</param>
    /// <param name="hash">Given every byte read, byte-order mark included, so the fingerprint is the file's SHA-256.</param>
    /// <param name="maxLineBytes">The longest line kept, in bytes, its break not counted.</param>
    public BatchLineReader(Stream stream, IncrementalHash? hash, int maxLineBytes = DefaultMaxLineBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLineBytes);
        _stream = stream;
        _hash = hash;
        _maxLineBytes = maxLineBytes;
    }

    /// <summary>The file starts with a UTF-16 byte-order mark (FF FE or FE FF): it is not UTF-8 at all.</summary>
    public bool StartsAsUtf16 { get; private set; }

    /// <summary>The bytes read so far.</summary>
    public long Position => _position;

    public int MaxLineBytes => _maxLineBytes;

    /// <summary>The next line, or null at the end. Its bytes stay valid until the next call.</summary>
    public async ValueTask<RawLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            await StartAsync(cancellationToken).ConfigureAwait(false);
        }

        _line.ResetWrittenCount();
        long offset = _position;
        long length = 0;
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                if (length == 0)
                {
                    return null;
                }

                break;
            }

            var available = _chunk.AsSpan(_start, _end - _start);
            if (_skipLineFeed)
            {
                // The \n of a \r\n split across two reads belongs to the line already returned.
                _skipLineFeed = false;
                if (available[0] == (byte)'\n')
                {
                    Advance(1);
                    offset++;
                    continue;
                }
            }

            int end = available.IndexOfAny((byte)'\n', (byte)'\r');
            int take = end < 0 ? available.Length : end;
            if (length + take <= _maxLineBytes)
            {
                _line.Write(available[..take]);
            }

            length += take;
            Advance(take);
            if (end >= 0)
            {
                bool carriageReturn = available[end] == (byte)'\r';
                Advance(1);
                if (carriageReturn)
                {
                    if (_start < _end)
                    {
                        if (_chunk[_start] == (byte)'\n')
                        {
                            Advance(1);
                        }
                    }
                    else
                    {
                        _skipLineFeed = true;
                    }
                }

                break;
            }
        }

        _lineNumber++;
        bool tooLong = length > _maxLineBytes;
        return new RawLine(_lineNumber, offset, length, tooLong ? ReadOnlyMemory<byte>.Empty : _line.WrittenMemory, tooLong);
    }

    // Skips a UTF-8 byte-order mark, as StreamReader did, and notes a UTF-16 one.
    private async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _started = true;
        while (_end - _start < 3 && await FillAsync(cancellationToken).ConfigureAwait(false))
        {
        }

        var head = _chunk.AsSpan(_start, _end - _start);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            Advance(3);
        }
        else if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            StartsAsUtf16 = true;
        }
    }

    private void Advance(int count)
    {
        _start += count;
        _position += count;
    }

    // Keeps unread bytes and reads more after them; false at the end of the stream.
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_endOfStream)
        {
            return false;
        }

        if (_start > 0)
        {
            _chunk.AsSpan(_start, _end - _start).CopyTo(_chunk);
            _end -= _start;
            _start = 0;
        }

        int read = await _stream.ReadAsync(_chunk.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _endOfStream = true;
            return false;
        }

        _hash?.AppendData(_chunk, _end, read);
        _end += read;
        return true;
    }
}

/// <summary>One line of a batch file as bytes, without its break.</summary>
/// <param name="Number">Its line number, from 1.</param>
/// <param name="Offset">The byte offset of its first byte in the file.</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="Bytes">Its bytes; empty when <paramref name="TooLong"/>.</param>
/// <param name="TooLong">Longer than the reader's cap: counted, not kept.</param>
internal readonly record struct RawLine(int Number, long Offset, long Length, ReadOnlyMemory<byte> Bytes, bool TooLong);
