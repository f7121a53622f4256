namespace Sluice.Proxy;

/// <summary>
/// What a tenant's name may be: 1 to 64 printable characters. A name appears in status, metrics labels, logs and the
/// dashboard, and a header can carry one, so a control character or an unbounded length is refused, never kept.
/// </summary>
internal static class TenantNames
{
    public const int MaxLength = 64;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxLength || char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]))
        {
            return false;
        }

        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsControl(c) || c == '\uFFFD')
            {
                return false;
            }

            // A lone surrogate is no character at all: it would make invalid UTF-8 in the status and the metrics.
            if (char.IsHighSurrogate(c) ? i + 1 >= name.Length || !char.IsLowSurrogate(name[++i]) : char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }
}
