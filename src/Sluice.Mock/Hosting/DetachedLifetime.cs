using Microsoft.Extensions.Hosting;

namespace Sluice.Mock.Hosting;

/// <summary>
/// A host lifetime that leaves the process alone: a mock started inside tests or a command must not take over
/// Ctrl-C or SIGTERM; its owner stops it by disposing the <see cref="MockServer"/>.
/// </summary>
internal sealed class DetachedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
