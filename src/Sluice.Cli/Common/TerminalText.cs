using System.Globalization;
using System.Text;

namespace Sluice.Cli.Common;

/// <summary>
/// Text from outside Sluice (a provider's error message, a file's line, an exception's message naming a path) made
/// safe to print as one line of a terminal or a log: control characters — line breaks, escape sequences that recolour
/// or rewrite the screen, NUL — are written as <c>\uXXXX</c>, so nothing can forge a line or drive the terminal.
/// </summary>
internal static class TerminalText
{
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = IndexOfControl(text);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsControl(c))
            {
                escaped.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    private static int IndexOfControl(string text)
    {
        int low = text.AsSpan().IndexOfAnyInRange('\u0000', '\u001F');
        int high = text.AsSpan().IndexOfAnyInRange('\u007F', '\u009F');
        return low < 0 ? high : high < 0 ? low : Math.Min(low, high);
    }
}
