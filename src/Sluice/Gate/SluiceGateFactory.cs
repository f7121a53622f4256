using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Sluice.Gate;

/// <summary>
/// Makes the gate an engine waits at. <see cref="SluiceGate.Create"/> is the in-process one; a package that shares
/// budgets between processes (<c>Sluice.Redis</c>) offers its own, and every face takes it through
/// <see cref="Http.SluiceHandlerOptions.GateFactory"/>.
/// </summary>
/// <param name="options">The partition limits the engine derived from its options.</param>
/// <param name="timeProvider">The engine's clock; the gate must run on it.</param>
/// <param name="loggerFactory">Where logs go; nowhere when null.</param>
/// <param name="meterFactory">Where metrics go; a private <c>Sluice</c> meter when null.</param>
/// <returns>A gate the engine owns and disposes.</returns>
public delegate SluiceGate SluiceGateFactory(GateOptions options, TimeProvider timeProvider, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory);
