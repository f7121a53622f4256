using System.Globalization;
using System.Text.Json;
using Fluid;
using Fluid.Values;

namespace Sluice.Cli.Data;

/// <summary>
/// A prompt template in Liquid (Fluid): <c>{{title}}</c>, filters (<c>{{ body | truncate: 2000 }}</c>), conditions.
/// Values are written as they are, never HTML-escaped. A name the row lacks is an error, not an empty string: a typo in
/// a field name would otherwise send thousands of prompts with a hole in them.
/// </summary>
internal sealed class PromptTemplate
{
    private static readonly FluidParser Parser = new();

    private readonly IFluidTemplate _template;
    private readonly TemplateOptions _options;
    private readonly List<string> _undefined = [];

    private PromptTemplate(IFluidTemplate template, TimeProvider timeProvider)
    {
        _template = template;
        _options = new TemplateOptionsBuilder()
            .WithCultureInfo(CultureInfo.InvariantCulture)
            .WithNow(timeProvider.GetUtcNow)
            .WithUndefined((name, _) =>
            {
                _undefined.Add(name);
                return ValueTask.FromResult<FluidValue>(NilValue.Instance);
            })
            .Build();
    }

    /// <summary>The template, or null with Fluid's message, which gives the position as (line:column).</summary>
    public static PromptTemplate? Parse(string text, TimeProvider timeProvider, out string? problem)
    {
        if (!Parser.TryParse(text, out var template, out string? error))
        {
            problem = error.Split("\nSource:")[0].Trim();
            return null;
        }

        problem = null;
        return new PromptTemplate(template, timeProvider);
    }

    /// <summary>The text for one row, or null with the names the template used that the row lacks.</summary>
    public string? Render(DataRow row, out IReadOnlyList<string> missing)
    {
        _undefined.Clear();
        var context = new TemplateContext(_options, StringComparer.Ordinal);
        foreach (var field in row.Fields)
        {
            context.SetValue(field.Name, ValueOf(field));
        }

        string text = _template.Render(context, NullEncoder.Default);
        if (_undefined.Count > 0)
        {
            missing = [.. _undefined.Distinct(StringComparer.Ordinal)];
            return null;
        }

        missing = [];
        return text;
    }

    // JSONL values keep their kind, so {% if score > 3 %} and {{ tags | join: ", " }} work; CSV values are text.
    private FluidValue ValueOf(DataField field) => field.Kind switch
    {
        JsonValueKind.String => StringValue.Create(field.Text),
        JsonValueKind.Null => NilValue.Instance,
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        JsonValueKind.Number => decimal.TryParse(field.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal number) ? NumberValue.Create(number) : StringValue.Create(field.Text),
        _ => FluidValue.Create(Plain(JsonDocument.Parse(field.Text).RootElement), _options),
    };

    // Objects and arrays as dictionaries and lists, which Fluid navigates ({{ meta.author }}, {% for t in tags %}).
    private static object? Plain(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Aggregate(new Dictionary<string, object?>(StringComparer.Ordinal), (map, p) => { map[p.Name] = Plain(p.Value); return map; }),
        JsonValueKind.Array => element.EnumerateArray().Select(Plain).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetDecimal(out decimal number) ? number : element.GetRawText(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
