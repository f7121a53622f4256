using System.Globalization;
using StackExchange.Redis;

namespace Sluice.Redis.Connection;

/// <summary>Reads where Redis is, as users write it: a StackExchange.Redis configuration string or a <c>redis://</c> URL.</summary>
public static class RedisConnection
{
    /// <summary>
    /// Parses <paramref name="text"/>: <c>redis://[user:password@]host[:port][/database]</c>, <c>rediss://…</c> (TLS), or
    /// a StackExchange.Redis configuration string such as <c>host:port,password=…</c>. The result does not abort when
    /// Redis is down at first: the gate starts on its local share and joins when Redis answers.
    /// </summary>
    /// <param name="text">Where Redis is.</param>
    /// <returns>StackExchange.Redis options.</returns>
    /// <exception cref="ArgumentException">The text is empty or not a valid URL or configuration; the message never repeats a password.</exception>
    public static ConfigurationOptions Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.Length == 0)
        {
            throw new ArgumentException("Redis: no address given (expected host:port or redis://host:port).", nameof(text));
        }

        ConfigurationOptions options;
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            options = FromUrl(text);
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(text);
            }
            catch (ArgumentException)
            {
                // Its message may quote the text, and the text may hold a password.
                throw new ArgumentException($"Redis: '{Describe(text)}' is not a valid address (expected host:port or redis://host:port).", nameof(text));
            }
        }

        if (options.EndPoints.Count == 0)
        {
            throw new ArgumentException($"Redis: '{Describe(text)}' names no host (expected host:port or redis://host:port).", nameof(text));
        }

        options.AbortOnConnectFail = false;
        return options;
    }

    /// <summary>
    /// <paramref name="text"/> fit to show: the endpoints only, without user, password or any other setting, such as
    /// <c>10.0.0.5:6379</c>. For logs, progress lines and errors.
    /// </summary>
    /// <param name="text">Where Redis is, as the user wrote it.</param>
    /// <returns>The host and port part.</returns>
    public static string Describe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            // A URL, valid or not: the authority without user and password (after the last '@'), never the rest.
            string authority = text[(scheme + 3)..].Split('/', '?', '#')[0];
            string host = authority[(authority.LastIndexOf('@') + 1)..];
            return host.Length == 0 ? "(no host)" : host;
        }

        // A configuration string: endpoints are the parts without '='; every key=value (password among them) is dropped.
        var endpoints = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(p => !p.Contains('=', StringComparison.Ordinal));
        string shown = string.Join(",", endpoints);
        return shown.Length == 0 ? "(no host)" : shown;
    }

    private static ConfigurationOptions FromUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"Redis: '{Describe(text)}' is not a valid redis:// URL.", nameof(text));
        }

        var options = new ConfigurationOptions { Ssl = string.Equals(uri.Scheme, "rediss", StringComparison.OrdinalIgnoreCase) };
        options.EndPoints.Add(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port);
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            if (parts.Length == 2)
            {
                options.User = parts[0].Length == 0 ? null : Uri.UnescapeDataString(parts[0]);
                options.Password = Uri.UnescapeDataString(parts[1]);
            }
            else
            {
                // redis://password@host, as redis-cli -u reads it.
                options.Password = Uri.UnescapeDataString(parts[0]);
            }
        }

        string path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int database) || database > 15)
            {
                throw new ArgumentException($"Redis: the database in '{Describe(text)}' must be a number from 0 to 15, not '{path}'.", nameof(text));
            }

            options.DefaultDatabase = database;
        }

        return options;
    }
}
