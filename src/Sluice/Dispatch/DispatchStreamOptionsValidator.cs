using Microsoft.Extensions.Options;

namespace Sluice.Dispatch;

/// <summary>Source-generated validation of <see cref="DispatchStreamOptions"/>' data annotations.</summary>
[OptionsValidator]
internal sealed partial class DispatchStreamOptionsValidator : IValidateOptions<DispatchStreamOptions>
{
}
