using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sluice.Caching;

/// <summary>
/// Writes a JSON value in the one form a cache key is made from: object keys sorted (ordinal, by their decoded text),
/// no whitespace, strings decoded and re-escaped one way, numbers exactly as written, and — at the top level only —
/// none of the fields that never change an answer.
/// </summary>
internal static class CanonicalJson
{
    /// <summary>Top-level request fields that identify the caller or steer billing and storage, never the answer.</summary>
    private static readonly string[] IgnoredFields = ["user", "metadata", "store", "safety_identifier", "prompt_cache_key", "service_tier"];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // One fixed escaping: the input's own escapes are decoded first, so "\u0041" and "A" write the same.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    // Reused per thread: a key is made for every request of a run, and its buffers would otherwise be most of its cost.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Whether a top-level field is left out of the key.</summary>
    public static bool IsIgnored(string name) => Array.IndexOf(IgnoredFields, name) >= 0;

    /// <summary>A cleared buffer for this thread (a new one when this thread's is in use).</summary>
    public static ArrayBufferWriter<byte> RentBuffer()
    {
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(4096);
        t_buffer = null;
        buffer.ResetWrittenCount();
        return buffer;
    }

    /// <summary>Gives a buffer back; one grown past 1 MiB is let go rather than held by the thread.</summary>
    public static void ReturnBuffer(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= 1 << 20)
        {
            t_buffer = buffer;
        }
    }

    /// <summary>Writes <paramref name="root"/> canonically.</summary>
    /// <param name="root">The value.</param>
    /// <param name="output">Where the canonical bytes go.</param>
    /// <param name="dropIgnoredFields">Leave out the top-level fields that do not change the answer.</param>
    public static void Write(JsonElement root, IBufferWriter<byte> output, bool dropIgnoredFields)
    {
        var writer = t_writer;
        t_writer = null;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(output, WriterOptions);
        }
        else
        {
            writer.Reset(output);
        }

        try
        {
            WriteValue(writer, root, dropIgnoredFields);
            writer.Flush();
        }
        finally
        {
            writer.Reset(Stream.Null);
            t_writer = writer;
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement value, bool dropIgnoredFields)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, value, dropIgnoredFields);
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteValue(writer, item, dropIgnoredFields: false);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(value.GetString());
                break;
            case JsonValueKind.Number:
                // As written: 1, 1.0 and 1e0 may mean different things to a provider, and a key must never merge them.
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, JsonElement value, bool dropIgnoredFields)
    {
        var properties = new List<(string Name, int Index, JsonElement Value)>();
        foreach (var property in value.EnumerateObject())
        {
            if (!dropIgnoredFields || !IsIgnored(property.Name))
            {
                properties.Add((property.Name, properties.Count, property.Value));
            }
        }

        // Ties broken by position: a name given twice keeps its order, as a provider reading the last one would.
        properties.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name) is var byName and not 0 ? byName : x.Index.CompareTo(y.Index));
        writer.WriteStartObject();
        foreach (var (name, _, item) in properties)
        {
            writer.WritePropertyName(name);
            WriteValue(writer, item, dropIgnoredFields: false);
        }

        writer.WriteEndObject();
    }
}
