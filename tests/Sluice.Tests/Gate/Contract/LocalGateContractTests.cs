using Sluice.Gate;

namespace Sluice.Tests.Gate.Contract;

/// <summary>The in-process gate that <see cref="SluiceGate.Create"/> makes, held to the gate contract.</summary>
public sealed class LocalGateContractTests : GateContractTests
{
    protected override SluiceGate CreateGate(GateOptions options, TimeProvider timeProvider) => SluiceGate.Create(options, timeProvider);
}
