using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

/// <summary>
/// Whatever body a server sends — pretty-printed JSON, JSON ending in a newline or CRLF, HTML, plain text, binary,
/// invalid UTF-8, nothing — the output line is one line that System.Text.Json parses, and it carries the body's value:
/// the same JSON value, the same text, or the same bytes in base64.
/// </summary>
public sealed class OutputLinePropertyTests
{
    // Characters chosen to hurt: every kind of line break, quotes, escapes, controls, non-ASCII and a surrogate pair.
    private static readonly string[] Pieces =
    [
        "a", "Z", " ", "\n", "\r\n", "\r", "\t", "\"", "\\", "/", "<", ">", "&", "'", "\0", "\u001b", "\u0085",
        "\u2028", "\u2029", "\u00e9", "\u4e2d", "\ud83d\ude00", "\ufeff", "{", "}", "[", "]", ",", ":",
    ];

    private static readonly Gen<string> Text = Gen.Int[0, Pieces.Length - 1].Array[0, 40].Select(ix => string.Concat(ix.Select(i => Pieces[i])));

    private static readonly Gen<string> LineEnd = Any("", "\n", "\r\n", "\n\n", " \t\r\n");

    private static readonly Gen<Body> JsonBodies =
        from seed in Gen.Int
        from indented in Gen.Bool
        from bom in Gen.Bool
        from end in LineEnd
        select JsonBody(seed, indented, bom, end);

    private static readonly Gen<Body> TextBodies =
        from kind in Gen.Int[0, 2]
        from text in Text
        from end in LineEnd
        select TextBody(kind switch
        {
            0 => $"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>{text}</body>\r\n</html>{end}",
            1 => $"upstream connect error: {text}{end}",
            _ => $"data: {text}\n\ndata: [DONE]{end}",
        });

    private static readonly Gen<Body> BinaryBodies =
        from bytes in Gen.Byte.Array[0, 300]
        from at in Gen.Int[0, 300]
        from bad in Any<byte[]>([0xFF], [0xFE], [0xC0, 0xAF], [0xED, 0xA0, 0x80])
        select Binary(bytes, at, bad);

    // Text cut in the middle of a character, as a server that truncates by bytes sends it.
    private static readonly Gen<Body> CutBodies = Text.Select(text => new Body([.. Encoding.UTF8.GetBytes("{\"text\":\"" + text), 0xE2, 0x82], Json: null, Text: null));

    private static readonly Gen<Body> EmptyBodies = Gen.Const(new Body([], Json: null, Text: ""));

    private static readonly Gen<Body> Bodies = Gen.Frequency((4, JsonBodies), (3, TextBodies), (3, BinaryBodies), (1, CutBodies), (1, EmptyBodies));

    [Fact]
    public void EveryBody_GivesOneParsableLine_CarryingTheBodysValue()
    {
        var cases = from body in Bodies
                    from status in Any(200, 400, 429, 500, 502)
                    from failed in Gen.Bool
                    from message in Gen.Char.Array[0, 30].Select(c => new string(c))
                    select (body, status, failed, message);
        cases.Sample(c =>
        {
            var answer = new ProviderAnswer(c.status, "req_\n1", c.body.Bytes);
            (string, string)? error = c.failed ? ("http_" + c.status, c.message) : null;

            string line = OutputLine.Create("batch_req_1", "id\r\n\u2028", answer, error);

            AssertOneLine(line);
            using var document = JsonDocument.Parse(line);
            var response = document.RootElement.GetProperty("response");
            AssertCarries(c.body, response);
            if (c.failed)
            {
                Assert.Equal(WithoutLoneSurrogates(c.message), document.RootElement.GetProperty("error").GetProperty("message").GetString());
            }
        }, iter: 2_000);
    }

    [Theory]
    [InlineData("{\n  \"id\": \"chatcmpl-1\",\n  \"choices\": []\n}\n", """{"id":"chatcmpl-1","choices":[]}""")]
    [InlineData("{\"id\":\"x\"}\r\n", """{"id":"x"}""")]
    [InlineData("\uFEFF{\"a\": 1.50e3}", """{"a":1.50e3}""")]
    [InlineData("[1, 2]\n", "[1,2]")]
    [InlineData("{\"text\":\"caf\u00e9 \u4e2d\"}", "{\"text\":\"caf\u00e9 \u4e2d\"}")]
    [InlineData("{ \"a b\" : \" x\\\" y \\\\\" }", "{\"a b\":\" x\\\" y \\\\\"}")]
    [InlineData("{\"s\":\"\u2028\u0085\u2029\"}", "{\"s\":\"\\u2028\\u0085\\u2029\"}")]
    [InlineData("\"just a string\"\n", "\"just a string\"")]
    public void JsonBody_IsRewrittenCompactly_NumbersAndTextKept(string body, string expected)
    {
        string line = OutputLine.Create("batch_req_1", "a", new ProviderAnswer(200, null, Encoding.UTF8.GetBytes(body)), error: null);

        Assert.Contains("\"body\":" + expected + "}", line, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyBody_IsTheEmptyString()
    {
        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_1", "a", new ProviderAnswer(204, null, []), error: null));

        Assert.Equal("", line.RootElement.GetProperty("response").GetProperty("body").GetString());
        Assert.False(line.RootElement.GetProperty("response").TryGetProperty("body_encoding", out _));
    }

    [Fact]
    public void InvalidUtf8_IsBase64_Marked()
    {
        byte[] body = [0x49, 0x44, 0x33, 0xFF, 0xFB, 0x90, 0x00];

        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_1", "a", new ProviderAnswer(200, null, body), error: null));

        var response = line.RootElement.GetProperty("response");
        Assert.Equal("base64", response.GetProperty("body_encoding").GetString());
        Assert.Equal(body, response.GetProperty("body").GetBytesFromBase64());
    }

    [Fact]
    public void JsonWithAnEscapedLoneSurrogate_IsKeptAsText()
    {
        const string body = """{"a":"\ud800"}""";

        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_1", "a", new ProviderAnswer(200, null, Encoding.UTF8.GetBytes(body)), error: null));

        Assert.Equal(body, line.RootElement.GetProperty("response").GetProperty("body").GetString());
    }

    private static void AssertOneLine(string line)
    {
        foreach (char breaker in "\n\r\u0085\u2028\u2029\u000b\u000c\u001c\u001d\u001e")
        {
            Assert.DoesNotContain(breaker, line);
        }
    }

    private static void AssertCarries(Body body, JsonElement response)
    {
        var value = response.GetProperty("body");
        bool base64 = response.TryGetProperty("body_encoding", out var encoding);
        if (body.Json is { } json)
        {
            Assert.False(base64);
            using var expected = JsonDocument.Parse(json);
            Assert.True(JsonElement.DeepEquals(expected.RootElement, value), $"{json} became {value.GetRawText()}");
        }
        else if (body.Text is { } text)
        {
            Assert.False(base64);
            Assert.Equal(text, value.GetString());
        }
        else
        {
            Assert.Equal("base64", encoding.GetString());
            Assert.Equal(body.Bytes, value.GetBytesFromBase64());
        }
    }

    private static string WithoutLoneSurrogates(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    private static Body JsonBody(int seed, bool indented, bool bom, string end)
    {
        var node = RandomNode(new Random(seed), depth: 0);
        string json = node?.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = indented,
            NewLine = indented && seed % 2 == 0 ? "\r\n" : "\n",
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) ?? "null";
        if (seed % 3 == 0)
        {
            // Raw U+0085, U+2028 and U+2029 are legal in JSON strings (the serializer escapes them; some servers do not).
            json = json.Replace("\\u0085", "\u0085", StringComparison.Ordinal).Replace("\\u2028", "\u2028", StringComparison.Ordinal).Replace("\\u2029", "\u2029", StringComparison.Ordinal);
        }

        byte[] utf8 = Encoding.UTF8.GetBytes(json + end);
        return new Body(bom ? [0xEF, 0xBB, 0xBF, .. utf8] : utf8, json, Text: null);
    }

    private static JsonNode? RandomNode(Random random, int depth)
    {
        int kind = random.Next(depth >= 4 ? 5 : 7);
        return kind switch
        {
            0 => null,
            1 => JsonValue.Create(random.Next(2) == 0),
            2 => JsonValue.Create(random.Next(-1_000_000, 1_000_000)),
            3 => JsonValue.Create(Math.Round(random.NextDouble() * 1e6, 3)),
            4 => JsonValue.Create(RandomText(random)),
            5 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomNode(random, depth + 1))]),
            _ => RandomObject(random, depth),
        };
    }

    private static JsonObject RandomObject(Random random, int depth)
    {
        var result = new JsonObject();
        for (int i = random.Next(5); i > 0; i--)
        {
            result[RandomText(random) + i] = RandomNode(random, depth + 1);
        }

        return result;
    }

    private static string RandomText(Random random) =>
        string.Concat(Enumerable.Range(0, random.Next(8)).Select(_ => Pieces[random.Next(Pieces.Length)]));

    private static Body Binary(byte[] bytes, int at, byte[] bad)
    {
        int i = Math.Min(at, bytes.Length);
        return new Body([.. bytes[..i], .. bad, .. bytes[i..]], Json: null, Text: null);
    }

    private static Gen<T> Any<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static Body TextBody(string text) => new(Encoding.UTF8.GetBytes(text), Json: null, text);

    /// <summary>A body and what it holds: a JSON value, a text that is not JSON, or (both null) bytes that are not UTF-8.</summary>
    private sealed record Body(byte[] Bytes, string? Json, string? Text);
}
