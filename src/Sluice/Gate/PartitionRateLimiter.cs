using System.Threading.RateLimiting;

namespace Sluice.Gate;

/// <summary>
/// A partition seen as a <see cref="RateLimiter"/> whose permits are tokens. It is a view, not a copy: it shares
/// the partition's queue and budgets with every other caller of the partition.
/// </summary>
internal sealed class PartitionRateLimiter(GatePartition partition) : RateLimiter
{
    public override TimeSpan? IdleDuration => partition.IdleDuration;

    public override RateLimiterStatistics? GetStatistics()
    {
        var snapshot = partition.GetSnapshot();
        return new RateLimiterStatistics
        {
            CurrentAvailablePermits = snapshot.TokensAvailable is { } tokens ? (long)Math.Floor(tokens) : long.MaxValue,
            CurrentQueuedCount = snapshot.Queued,
            TotalSuccessfulLeases = partition.TotalAdmitted,
            TotalFailedLeases = partition.TotalRejected,
        };
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        new Lease(partition.TryAcquire(new AdmissionRequest(permitCount)));

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        new Lease(await partition.AcquireAsync(new AdmissionRequest(permitCount), cancellationToken).ConfigureAwait(false));

    private sealed class Lease(GateLease lease) : RateLimitLease
    {
        private static readonly string[] _reasonOnly = [MetadataName.ReasonPhrase.Name];
        private static readonly string[] _both = [MetadataName.RetryAfter.Name, MetadataName.ReasonPhrase.Name];

        public override bool IsAcquired => lease.IsAdmitted;

        public override IEnumerable<string> MetadataNames =>
            lease.IsAdmitted ? [] : lease.RetryAfter is null ? _reasonOnly : _both;

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (!lease.IsAdmitted && metadataName == MetadataName.RetryAfter.Name && lease.RetryAfter is { } retryAfter)
            {
                metadata = retryAfter;
                return true;
            }

            if (!lease.IsAdmitted && metadataName == MetadataName.ReasonPhrase.Name && lease.RejectionMessage is { } reason)
            {
                metadata = reason;
                return true;
            }

            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                lease.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
