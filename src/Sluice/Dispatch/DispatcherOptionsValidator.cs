using Microsoft.Extensions.Options;

namespace Sluice.Dispatch;

/// <summary>Source-generated validation of <see cref="DispatcherOptions"/>' data annotations.</summary>
[OptionsValidator]
internal sealed partial class DispatcherOptionsValidator : IValidateOptions<DispatcherOptions>
{
}
