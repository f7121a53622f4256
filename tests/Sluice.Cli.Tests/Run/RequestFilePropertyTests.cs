using System.Text;
using System.Text.Json;
using CsCheck;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

/// <summary>
/// Fuzzing <c>sluice run</c>'s input reader: files of random and broken lines — random bytes, JSON fragments, invalid
/// UTF-8, byte-order marks, lone surrogate escapes, deep nesting, lines over the length cap, every kind of line break —
/// mixed with valid lines. Validation never throws, names each problem by a line that exists in one line of printable
/// text, never reports a valid line, and a file without problems reads back line for line. Bounded iterations keep
/// the run to a few seconds on a busy machine.
/// </summary>
public sealed class RequestFilePropertyTests : IDisposable
{
    private const int Cap = 2_048;
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-request-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Pieces chosen to hurt a line reader or a validator; none holds a line break, which the separators place.
    private static readonly byte[][] Pieces =
    [
        .. new[]
        {
            "{", "}", "[", "]", ",", ":", "\"", "\\", "null", "true", "1e999", "-0", " ", "\t", "\u00e9", "\u4e2d", "\ud83d\ude00",
            "\"custom_id\":", "\"custom_id\":\"x\"", "\"custom_id\":7", "\"custom_id\":\"\\ud800\"", "\"custom_id\":\"a\\u000db\"",
            "\"method\":\"POST\"", "\"method\":\"\\udfff\"", "\"url\":\"/v1/chat/completions\"", "\"url\":\"http://evil/\"",
            "\"body\":{}", "\"body\":{\"stream\":true}", "\"body\":[]", "\\u0000", "\u001b[2J", "\u2028", "\u0085",
            new string('[', 70), new string(']', 70),
        }.Select(Encoding.UTF8.GetBytes),
        [0xFF], [0xFE], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF], [0x00],
    ];

    private static readonly Gen<byte[]> RandomBytes = Gen.Byte.Array[0, 40].Select(bytes => bytes.Where(b => b is not ((byte)'\n' or (byte)'\r')).ToArray());

    private static readonly Gen<byte[]> Fragments = Gen.Int[0, Pieces.Length - 1].Array[0, 12].Select(ix => ix.SelectMany(i => Pieces[i]).ToArray());

    private static readonly Gen<byte[]> LongLines = Gen.Int[Cap - 2, Cap + 3].Select(n => Encoding.UTF8.GetBytes(new string('x', n)));

    private static readonly Gen<byte[]> Blank = Gen.OneOf<byte[]>([], " "u8.ToArray(), "\t \u00a0"u8.ToArray());

    private static readonly Gen<Piece> Garbage = Gen.Frequency(
        (4, Fragments),
        (3, RandomBytes),
        (1, LongLines),
        (1, Blank)).Select(bytes => new Piece(bytes, Valid: false));

    private static readonly Gen<Piece> ValidLines = Gen.OneOf("a", "résumé", "中文", "😀", "sp ace", "per%cent").Select(name => new Piece([], Valid: true, name));

    private static readonly Gen<string> Separator = Gen.OneOf("\n", "\r\n", "\r");

    private static readonly Gen<byte[]> Start = Gen.Frequency(
        (6, Gen.Const(Array.Empty<byte>())),
        (2, Gen.Const<byte[]>([0xEF, 0xBB, 0xBF])),
        (1, Gen.Const<byte[]>([0xFF, 0xFE])));

    private static readonly Gen<Case> Cases =
        from start in Start
        from pieces in Gen.Frequency((3, Garbage), (2, ValidLines)).Array[0, 30]
        from separators in Separator.Array[30]
        from endsWithBreak in Gen.Bool
        select Build(start, pieces, separators, endsWithBreak);

    [Fact]
    public void AnyFile_ValidatesWithoutThrowing_EachProblemOnARealLine_ValidLinesNeverReported()
    {
        Cases.Sample(c =>
        {
            var task = RequestFile.ValidateAsync(new MemoryStream(c.Bytes), Cap, default);
            Assert.True(task.IsCompleted, "a memory stream is read synchronously");
            var validation = task.GetAwaiter().GetResult();

            Assert.InRange(validation.Problems.Count, 0, Math.Min(RequestFile.ProblemsShown, validation.ProblemCount));
            Assert.Equal(validation.Problems.OrderBy(p => p.LineNumber).Select(p => p.LineNumber), validation.Problems.Select(p => p.LineNumber));
            Assert.Equal(validation.Problems.Count, validation.Problems.Select(p => p.LineNumber).Distinct().Count());
            foreach (var problem in validation.Problems)
            {
                Assert.InRange(problem.LineNumber, 1, c.Lines);
                Assert.False(string.IsNullOrWhiteSpace(problem.Reason));
                Assert.DoesNotContain(problem.Reason, char.IsControl);
                Assert.DoesNotContain(problem.LineNumber, c.ValidLines);
            }

            Assert.InRange(validation.Requests, c.ValidLines.Count, int.MaxValue);
            Assert.Equal(c.Bytes.Length, validation.Bytes);
        }, iter: 2_000, print: c => c.ToString());
    }

    [Fact]
    public async Task AFileOfValidLines_ReadsBackLineForLine_AsValidated()
    {
        var valid = from start in Gen.OneOf<byte[]>([], [0xEF, 0xBB, 0xBF])
                    from pieces in Gen.Frequency((4, ValidLines), (1, Blank.Select(b => new Piece(b, Valid: false)))).Array[0, 20]
                    from separators in Separator.Array[20]
                    from endsWithBreak in Gen.Bool
                    select Build(start, pieces, separators, endsWithBreak);
        await valid.SampleAsync(async c =>
        {
            string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.jsonl");
            await File.WriteAllBytesAsync(path, c.Bytes);
            var validation = await RequestFile.ValidateAsync(path, default);
            var read = new List<RequestLine>();
            await foreach (var line in RequestFile.ReadAsync(path, validation, new HashSet<string>()))
            {
                read.Add(line);
            }

            Assert.Equal(0, validation.ProblemCount);
            Assert.Equal(c.ValidLines.Order(), read.Select(l => l.LineNumber));
            Assert.Equal(validation.Requests, read.Count);
            Assert.All(read, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l.Body).RootElement.ValueKind));
        }, iter: 200, threads: 1, print: c => c.ToString());
    }

    [Fact]
    public async Task ALineWithoutABreak_FarOverTheCap_IsCounted_NotHeld()
    {
        // 64 MiB of one line: StreamReader held it all (twice over, as chars); the reader keeps at most the cap.
        const long Length = 64L << 20;
        var stream = new EndlessLine(Length);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var task = RequestFile.ValidateAsync(stream, maxLineBytes: 1 << 16, default);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(task.IsCompleted, "the stream answers synchronously, so every allocation is on this thread");
        var validation = await task;
        var problem = Assert.Single(validation.Problems);
        Assert.Equal(new LineProblem(1, $"the line is {Length:N0} bytes long; the most is {1 << 16:N0}"), problem);
        Assert.InRange(allocated, 0, 2L << 20);
    }

    private static Case Build(byte[] start, Piece[] pieces, string[] separators, bool endsWithBreak)
    {
        var bytes = new List<byte>(start);
        var validLines = new List<int>();
        int line = 0;
        for (int i = 0; i < pieces.Length; i++)
        {
            line++;
            var piece = pieces[i];
            byte[] content = piece.Valid ? Encoding.UTF8.GetBytes(ValidLine($"{piece.Name}-{line}")) : piece.Bytes;
            if (piece.Valid && !(line == 1 && start is [0xFF, 0xFE]))
            {
                validLines.Add(line);
            }

            bytes.AddRange(content);
            bool last = i == pieces.Length - 1;
            if (!last || endsWithBreak)
            {
                // A \r before an empty line and its \n would read as one \r\n break: the numbering must stay known.
                string separator = separators[i % separators.Length];
                bool nextEmpty = !last && !pieces[i + 1].Valid && pieces[i + 1].Bytes.Length == 0;
                bytes.AddRange(Encoding.ASCII.GetBytes(separator == "\r" && nextEmpty ? "\n" : separator));
            }
        }

        // A last piece that is empty and unterminated is no line at all.
        int lines = pieces.Length > 0 && !endsWithBreak && !pieces[^1].Valid && pieces[^1].Bytes.Length == 0 ? line - 1 : line;
        if (lines == 0 && start.Length > 0)
        {
            lines = 1;
        }

        return new Case([.. bytes], Math.Max(lines, 1), validLines);
    }

    private static string ValidLine(string id) => JsonSerializer.Serialize(new
    {
        custom_id = id,
        method = "POST",
        url = "/v1/chat/completions",
        body = new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } },
    });

    private sealed record Piece(byte[] Bytes, bool Valid, string Name = "");

    private sealed record Case(byte[] Bytes, int Lines, IReadOnlyList<int> ValidLines)
    {
        public override string ToString() => Convert.ToBase64String(Bytes);
    }

    // One line of 'x' of the given length, made as it is read, answering synchronously.
    private sealed class EndlessLine(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, length - _position);
            buffer[..n].Fill((byte)'x');
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
