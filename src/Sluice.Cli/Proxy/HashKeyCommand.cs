using System.CommandLine;
using System.Security.Cryptography;
using Sluice.Cli.Common;
using Sluice.Proxy;

namespace Sluice.Cli.Proxy;

/// <summary>
/// <c>sluice proxy hash-key</c>: the SHA-256 of a tenant's key, as the config file's <c>key_sha256</c> holds it, so the
/// file never holds the key. The key is read from stdin (one line), never from the command line, where it would land in
/// the shell's history and the process list; <c>--new</c> makes a fresh random key and prints it with its hash.
/// </summary>
internal static class HashKeyCommand
{
    /// <summary>What a key made by <c>--new</c> starts with, so a leaked one is recognisable (and greppable) as Sluice's.</summary>
    public const string KeyPrefix = "sk-sluice-";

    /// <summary>Random bytes in a new key: 256 bits, beyond guessing.</summary>
    public const int KeyBytes = 32;

    public static Command Create()
    {
        var newKey = new Option<bool>("--new")
        {
            Description = $"Make a new random tenant key ({KeyBytes * 8} bits, base64url, starting {KeyPrefix}) and print it and its hash, instead of reading one.",
        };
        var command = new Command(
            "hash-key",
            "Print the SHA-256 (lower-case hex) of a tenant key read from stdin, one line: put it in the config file as a tenant's " +
            "\"key_sha256\", and give the key to the tenant. The key is never an argument (shell history, process list). " +
            "Example: printf '%s' \"$APP_KEY\" | sluice proxy hash-key. With --new, makes a key and prints both.")
        {
            newKey,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration;
            return await RunAsync(Console.In, output.Output, output.Error, parseResult.GetValue(newKey), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Reads a key from <paramref name="input"/> (or makes one) and prints its hash; 0, or 2 when no key was given.</summary>
    public static async Task<int> RunAsync(TextReader input, TextWriter output, TextWriter error, bool makeNew, CancellationToken cancellationToken = default)
    {
        if (makeNew)
        {
            string key = NewKey();
            await output.WriteLineAsync($"key:        {key}").ConfigureAwait(false);
            await output.WriteLineAsync($"key_sha256: {ProxyTenant.HashKey(key)}").ConfigureAwait(false);
            await error.WriteLineAsync("Give the key to the tenant (it is not kept anywhere); put key_sha256 in the config file's tenant.").ConfigureAwait(false);
            return 0;
        }

        // The proxy trims the key a client presents, so the hash is of the trimmed line too.
        string? line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        string? read = line?.Trim();
        if (string.IsNullOrEmpty(read))
        {
            await error.WriteLineAsync("sluice proxy hash-key: no key on stdin: pipe one line, such as printf '%s' \"$APP_KEY\" | sluice proxy hash-key (or use --new)").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        await output.WriteLineAsync(ProxyTenant.HashKey(read)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>A new key: <see cref="KeyPrefix"/> and 256 random bits from the operating system's generator, base64url.</summary>
    public static string NewKey() => KeyPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
