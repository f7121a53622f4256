using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Sluice.Benchmarks -- --filter '*'   (add --job short for a quick look)
BenchmarkSwitcher.FromAssembly(typeof(Sluice.Benchmarks.GateBenchmarks).Assembly).Run(args);
