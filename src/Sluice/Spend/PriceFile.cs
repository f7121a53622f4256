using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.Spend;

/// <summary>
/// Reads the prices file format (see docs/spend.md): <c>asOf</c>, then per provider (<c>openai</c>, <c>anthropic</c>)
/// a <c>source</c> URL and <c>models</c>, each with <c>input</c>, <c>output</c> and optionally <c>cachedInput</c>,
/// <c>batchInput</c>, <c>batchOutput</c> in US dollars per million tokens. Every error names the file and the line, so
/// a user's file can be fixed where it is wrong; comments and trailing commas are allowed.
/// </summary>
internal static class PriceFile
{
    /// <summary>The providers a file may name; Azure OpenAI and OpenAI-compatible servers use <c>openai</c>'s prices.</summary>
    public static readonly string[] Providers = ["openai", "anthropic"];

    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static PriceTable Parse(byte[] json, string path)
    {
        var parser = new Parser(json, path);
        try
        {
            return parser.ParseTable();
        }
        catch (JsonException exception)
        {
            int? line = exception.LineNumber is { } zeroBased ? (int)zeroBased + 1 : null;
            string column = exception.BytePositionInLine is { } position ? FormattableString.Invariant($" at column {position + 1}") : string.Empty;
            throw new PriceTableException(path, line, $"not valid JSON{column}: {WithoutPosition(exception.Message)}", exception);
        }
    }

    // The reader's message ends with its own zero-based position; the exception names the line as people count.
    private static string WithoutPosition(string message)
    {
        foreach (var marker in (ReadOnlySpan<string>)[" LineNumber:", " Path:"])
        {
            int end = message.IndexOf(marker, StringComparison.Ordinal);
            if (end > 0)
            {
                message = message[..end];
            }
        }

        return message;
    }

    private ref struct Parser(byte[] json, string path)
    {
        private Utf8JsonReader _reader = new(json, Options);

        public PriceTable ParseTable()
        {
            Next();
            Expect(JsonTokenType.StartObject, "the file must be one JSON object");
            DateOnly? asOf = null;
            var prices = new Dictionary<string, Dictionary<string, ModelPrice>>(StringComparer.OrdinalIgnoreCase);
            var sources = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (NextProperty() is { } name)
            {
                if (name == "asOf")
                {
                    Next();
                    asOf = ReadDate();
                }
                else if (Array.Exists(Providers, p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase)))
                {
                    if (prices.ContainsKey(name))
                    {
                        throw Error($"provider '{name}' is listed twice");
                    }

                    Next();
                    var (models, source) = ReadProvider(name);
                    prices[name] = models;
                    if (source is not null)
                    {
                        sources[name] = source;
                    }
                }
                else
                {
                    throw Error($"unknown provider '{name}' (known: {string.Join(", ", Providers)}; Azure OpenAI and OpenAI-compatible servers use openai's prices)");
                }
            }

            if (asOf is null)
            {
                throw new PriceTableException(path, 1, "no \"asOf\" date (\"asOf\": \"2025-11-24\"): say when the prices were read");
            }

            return new PriceTable(asOf.Value, prices, sources);
        }

        private (Dictionary<string, ModelPrice> Models, string? Source) ReadProvider(string provider)
        {
            Expect(JsonTokenType.StartObject, $"provider '{provider}' must be an object with \"source\" and \"models\"");
            var models = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
            string? source = null;
            while (NextProperty() is { } name)
            {
                Next();
                switch (name)
                {
                    case "source":
                        Expect(JsonTokenType.String, $"{provider}.source must be a URL string");
                        source = _reader.GetString();
                        break;
                    case "models":
                        Expect(JsonTokenType.StartObject, $"{provider}.models must be an object of model names");
                        while (NextProperty() is { } model)
                        {
                            if (model.Length == 0)
                            {
                                throw Error($"{provider}.models has an empty model name");
                            }

                            if (models.ContainsKey(model))
                            {
                                throw Error($"model '{model}' is listed twice for {provider}");
                            }

                            int line = Line();
                            Next();
                            models[model] = ReadPrice(provider, model, line);
                        }

                        break;
                    default:
                        throw Error($"unknown field '{name}' in provider '{provider}' (known: source, models)");
                }
            }

            return (models, source);
        }

        private ModelPrice ReadPrice(string provider, string model, int line)
        {
            Expect(JsonTokenType.StartObject, $"{provider} model '{model}' must be an object of prices");
            decimal? input = null, cachedInput = null, output = null, batchInput = null, batchOutput = null;
            while (NextProperty() is { } name)
            {
                Next();
                switch (name)
                {
                    case "input": input = ReadAmount(model, name); break;
                    case "cachedInput": cachedInput = ReadAmount(model, name); break;
                    case "output": output = ReadAmount(model, name); break;
                    case "batchInput": batchInput = ReadAmount(model, name); break;
                    case "batchOutput": batchOutput = ReadAmount(model, name); break;
                    default: throw Error($"unknown price '{name}' for model '{model}' (known: input, cachedInput, output, batchInput, batchOutput)");
                }
            }

            if (input is null || output is null)
            {
                throw new PriceTableException(path, line, $"{provider} model '{model}' needs both \"input\" and \"output\" (US dollars per million tokens)");
            }

            return new ModelPrice
            {
                InputPerMillion = input.Value,
                CachedInputPerMillion = cachedInput,
                OutputPerMillion = output.Value,
                BatchInputPerMillion = batchInput,
                BatchOutputPerMillion = batchOutput,
            };
        }

        private decimal ReadAmount(string model, string name)
        {
            string written = Encoding.UTF8.GetString(_reader.HasValueSequence ? _reader.ValueSequence.ToArray() : _reader.ValueSpan);
            if (_reader.TokenType != JsonTokenType.Number || !_reader.TryGetDecimal(out decimal amount))
            {
                throw Error($"{name} of model '{model}' must be a number of US dollars per million tokens, not {(_reader.TokenType == JsonTokenType.String ? $"\"{written}\"" : written)}");
            }

            if (amount < 0)
            {
                throw Error($"{name} of model '{model}' is negative: {written}");
            }

            return amount;
        }

        private DateOnly ReadDate()
        {
            if (_reader.TokenType == JsonTokenType.String &&
                DateOnly.TryParseExact(_reader.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            throw Error("asOf must be a date written \"yyyy-MM-dd\"");
        }

        private string? NextProperty()
        {
            Next();
            if (_reader.TokenType == JsonTokenType.EndObject)
            {
                return null;
            }

            return _reader.GetString();
        }

        private void Next()
        {
            if (!_reader.Read())
            {
                throw new PriceTableException(path, Line(), "the file ends too soon");
            }
        }

        private readonly void Expect(JsonTokenType type, string problem)
        {
            if (_reader.TokenType != type)
            {
                throw Error(problem);
            }
        }

        private readonly PriceTableException Error(string problem) => new(path, Line(), problem);

        // The reader knows byte offsets only; the line is the number of line feeds before the token, plus one.
        private readonly int Line() => json.AsSpan(0, (int)Math.Min(_reader.TokenStartIndex, json.Length)).Count((byte)'\n') + 1;
    }
}
