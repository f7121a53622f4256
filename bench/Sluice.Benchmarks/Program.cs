using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Sluice.Benchmarks -- --filter '*'   (add --job short for a quick look)
// dotnet run -c Release --project bench/Sluice.Benchmarks -- cache-size ENTRIES FILE   (the response cache's size at scale)
if (args is ["cache-size", var entries, var path])
{
    await Sluice.Benchmarks.CacheSizeRun.RunAsync(int.Parse(entries, System.Globalization.CultureInfo.InvariantCulture), path);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Sluice.Benchmarks.GateBenchmarks).Assembly).Run(args);
