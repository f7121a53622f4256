using System.CommandLine.Parsing;
using System.Globalization;
using Sluice.Providers;

namespace Sluice.Cli.Common;

/// <summary>Parsers for the options <c>sluice run</c> and <c>sluice proxy</c> share, so both accept and refuse alike.</summary>
internal static class CommonOptions
{
    /// <summary>The most requests in flight a command accepts.</summary>
    public const int MaxConcurrency = 100_000;

    /// <summary><c>--provider</c>: openai, azure, anthropic or compatible (the enum names are accepted too).</summary>
    public static ProviderKind? ParseProvider(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        switch (text.ToLowerInvariant())
        {
            case "openai":
                return ProviderKind.OpenAI;
            case "azure":
            case "azureopenai":
                return ProviderKind.AzureOpenAI;
            case "anthropic":
                return ProviderKind.Anthropic;
            case "compatible":
            case "openaicompatible":
                return ProviderKind.OpenAICompatible;
            default:
                result.AddError($"--provider must be openai, azure, anthropic or compatible, not '{text}'.");
                return null;
        }
    }

    /// <summary><c>--concurrency</c>: a whole number from 1 to <see cref="MaxConcurrency"/>, or <c>auto</c> (null: learned).</summary>
    public static int? ParseConcurrency(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value is >= 1 and <= MaxConcurrency)
        {
            return value;
        }

        result.AddError($"--concurrency must be a whole number from 1 to 100000, or auto, not '{text}'.");
        return null;
    }
}
