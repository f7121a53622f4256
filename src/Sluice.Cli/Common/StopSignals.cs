using System.Runtime.InteropServices;

namespace Sluice.Cli.Common;

/// <summary>
/// Ctrl-C and SIGTERM for a command, the same in all three: the first asks to stop gracefully (<see cref="Stopping"/>:
/// <c>sluice run</c> and <c>sluice proxy</c> drain, <c>sluice mock</c> stops), the second asks to stop at once
/// (<see cref="Aborting"/>). A signal is taken over, so the process is not killed under a command that is draining;
/// disposing gives the signals back.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting = new();
    private readonly PosixSignalRegistration? _sigint;
    private readonly PosixSignalRegistration? _sigterm;
    private int _received;

    private StopSignals(bool listen)
    {
        if (listen)
        {
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        }
    }

    /// <summary>Takes over SIGINT (Ctrl-C) and SIGTERM until disposed.</summary>
    public static StopSignals Listen() => new(listen: true);

    /// <summary>Listens to no signal: for a command run inside another program (tests), which owns its signals.</summary>
    public static StopSignals Ignore() => new(listen: false);

    /// <summary>Cancelled by the first signal: stop gracefully.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Cancelled by the second signal: stop at once.</summary>
    public CancellationToken Aborting => _aborting.Token;

    /// <summary>How many signals have been received.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Acts as a received signal would: the first cancels <see cref="Stopping"/>, any later one <see cref="Aborting"/>.</summary>
    public void Raise()
    {
        if (Interlocked.Increment(ref _received) == 1)
        {
            _stopping.Cancel();
        }
        else
        {
            _aborting.Cancel();
        }
    }

    public void Dispose()
    {
        // Registrations first, so that no signal arrives at a disposed source.
        _sigint?.Dispose();
        _sigterm?.Dispose();
        _stopping.Dispose();
        _aborting.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Raise();
    }
}
