using Sluice.Gate;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// Follows a server-sent-events body line by line: notes the provider's terminator, feeds usage to a
/// <see cref="UsageReader.StreamUsage"/>, and when the body ends settles the reservation and releases the lease, once.
/// </summary>
/// <param name="lease">The try's admission, released when the body ends.</param>
/// <param name="profile">The provider's stream conventions.</param>
/// <param name="ended">
/// Told, once, the usage seen and whether the stream ended whole (its terminator seen) when the body ends or is let go:
/// the try's spend settles there.
/// </param>
internal sealed class StreamWatch(GateLease lease, ProviderProfile profile, Action<TokenUsage, bool>? ended = null)
{
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();

    private readonly UsageReader.StreamUsage _usage = new();
    private readonly List<byte> _partialLine = [];
    private int _finished;

    public bool SawTerminator { get; private set; }

    /// <summary>Where a copy of the body goes as it passes, for the response cache; set before the body is read.</summary>
    public StreamTee? Tee { get; set; }

    /// <summary>Scans a chunk of the body; lines may span chunks.</summary>
    public void Observe(ReadOnlySpan<byte> chunk)
    {
        Tee?.Append(chunk);
        while (!chunk.IsEmpty)
        {
            int newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _partialLine.AddRange(chunk);
                return;
            }

            if (_partialLine.Count > 0)
            {
                _partialLine.AddRange(chunk[..newline]);
                OnLine([.. _partialLine]);
                _partialLine.Clear();
            }
            else
            {
                OnLine(chunk[..newline]);
            }

            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Settles tokens from the usage seen and releases the lease. Idempotent.</summary>
    public void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        // The slot is released whatever the usage said: settling is bookkeeping, and a stream whose counts cannot be
        // settled keeps its reservation rather than its slot.
        try
        {
            if (_partialLine.Count > 0)
            {
                OnLine([.. _partialLine]);
                _partialLine.Clear();
            }

            Settle();
        }
#pragma warning disable CA1031 // Finish runs as a body ends or is disposed: nothing it meets may keep the slot or reach the reader.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            // The try's spend settles whatever the token bookkeeping met: a reservation left open would hold its cap for ever.
            try
            {
                ended?.Invoke(_usage.Usage, SawTerminator);
            }
            finally
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>The body ended cleanly, terminator seen: hands the tee's copy on (the cache stores it before this completes).</summary>
    public ValueTask EndedAsync() => Tee is { } tee ? tee.CompleteAsync(_usage.Usage) : ValueTask.CompletedTask;

    // Each dimension from its own count: Anthropic's output tokens come with message_delta, its input with message_start.
    private void Settle()
    {
        var settled = profile.Settlement(lease, _usage.Usage);
        if (settled.Total is >= 0 and { } total)
        {
            lease.Settle(total);
        }

        if (settled.Input is >= 0 and { } input)
        {
            lease.Settle(BudgetDimension.InputTokens, input);
        }

        if (settled.Output is >= 0 and { } output)
        {
            lease.Settle(BudgetDimension.OutputTokens, output);
        }
    }

    private void OnLine(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd((byte)'\r');
        if (profile.IsStreamTerminator(line))
        {
            SawTerminator = true;
        }

        if (line.StartsWith(DataPrefix))
        {
            _usage.Observe(line[DataPrefix.Length..].TrimStart((byte)' '));
        }
    }
}
