using Microsoft.Extensions.Options;

namespace Sluice.Options;

/// <summary>Validates options outside dependency injection, reporting every error in one exception.</summary>
internal static class OptionsGuard
{
    public static void ThrowIfInvalid<T>(IValidateOptions<T> validator, T options, string name)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options, name);
        var result = validator.Validate(name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(name, typeof(T), result.Failures ?? [result.FailureMessage]);
        }
    }
}
