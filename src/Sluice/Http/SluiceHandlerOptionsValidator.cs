using Microsoft.Extensions.Options;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Http;

/// <summary>Validates <see cref="SluiceHandlerOptions"/> and everything in it, reporting every error at once.</summary>
internal sealed class SluiceHandlerOptionsValidator : IValidateOptions<SluiceHandlerOptions>
{
    public ValidateOptionsResult Validate(string? name, SluiceHandlerOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Provider))
        {
            failures.Add($"Provider: '{options.Provider}' is not a known provider.");
        }

        if (options.DefaultLimits is null || options.Retry is null)
        {
            return ValidateOptionsResult.Fail("DefaultLimits and Retry must be set.");
        }

        Collect(failures, "DefaultLimits", new PartitionLimitsValidator().Validate(name, options.DefaultLimits));
        foreach (var (model, limits) in options.Partitions)
        {
            Collect(failures, $"Partitions:{model}", new PartitionLimitsValidator().Validate(name, limits));
        }

        if (options.MaxPartitions < 1)
        {
            failures.Add($"MaxPartitions: must be at least 1, not {options.MaxPartitions}.");
        }

        if (options.PartitionIdleTimeout <= TimeSpan.Zero && options.PartitionIdleTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"PartitionIdleTimeout: must be positive (or infinite), not {options.PartitionIdleTimeout}.");
        }

        if (options.MaxSpendPerDay < 0)
        {
            failures.Add($"MaxSpendPerDay: must not be negative, not {options.MaxSpendPerDay}.");
        }

        Collect(failures, "Retry", new DispatcherOptionsValidator().Validate(name, options.Retry));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Collect(List<string> failures, string prefix, ValidateOptionsResult result)
    {
        if (result.Failed)
        {
            failures.AddRange((result.Failures ?? [result.FailureMessage]).Select(f => $"{prefix}: {f}"));
        }
    }
}
