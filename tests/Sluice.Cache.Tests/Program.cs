using Sluice.Cache.Tests.Sqlite;

namespace Sluice.Cache.Tests;

/// <summary>
/// The test host's entry point is not used by <c>dotnet test</c>; run directly (<c>dotnet Sluice.Cache.Tests.dll
/// store-forever FILE</c>) it is the writer process that <see cref="AtomicityTests"/> kills in the middle of its stores.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["store-forever", var path])
        {
            await StoringChild.RunAsync(path);
            return 0;
        }

        return 2;
    }
}
