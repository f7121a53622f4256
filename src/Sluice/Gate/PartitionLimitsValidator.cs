using Microsoft.Extensions.Options;

namespace Sluice.Gate;

/// <summary>Source-generated validation of <see cref="PartitionLimits"/>' data annotations.</summary>
[OptionsValidator]
internal sealed partial class PartitionLimitsValidator : IValidateOptions<PartitionLimits>
{
}
