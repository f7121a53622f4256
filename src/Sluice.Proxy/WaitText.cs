using System.Globalization;

namespace Sluice.Proxy;

/// <summary>Waits in the proxy's own answers, in whole seconds rounded up (a client told to wait must not come back early): <c>45s</c>, <c>5m</c>, <c>1h30m</c>.</summary>
internal static class WaitText
{
    public static string Format(TimeSpan wait)
    {
        long seconds = (long)Math.Ceiling(Math.Max(0, wait.TotalSeconds));
        var (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        string text = (hours > 0 ? hours.ToString(CultureInfo.InvariantCulture) + "h" : "")
            + (minutes > 0 ? minutes.ToString(CultureInfo.InvariantCulture) + "m" : "")
            + (rest > 0 ? rest.ToString(CultureInfo.InvariantCulture) + "s" : "");
        return text.Length == 0 ? "0s" : text;
    }
}
