using System.ComponentModel;
using System.Globalization;

namespace Sluice.Spend;

/// <summary>
/// Reads a <see cref="PriceTable"/> from a string: the path of a prices file, laid over the shipped prices. So
/// <c>"Sluice:Prices": "prices.json"</c> in configuration binds <c>SluiceHandlerOptions.Prices</c>.
/// </summary>
internal sealed class PriceTableConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string path ? PriceTable.Default.OverriddenBy(PriceTable.Load(path)) : base.ConvertFrom(context, culture, value);
}
