namespace Sluice.Redis.Gate;

/// <summary>
/// The Lua the gate runs, read once from the assembly's resources: <c>gate.lua</c> (every admission, release,
/// settlement and control of one partition, one atomic script each) and <c>members.lua</c> (the heartbeat).
/// StackExchange.Redis sends each by its SHA (EVALSHA) once Redis knows it, and loads it again after a restart.
/// </summary>
internal static class GateScripts
{
    public static readonly string Gate = Read("gate.lua");

    public static readonly string Members = Read("members.lua");

    private static string Read(string name)
    {
        using var stream = typeof(GateScripts).Assembly.GetManifestResourceStream("Sluice.Redis.Gate.Lua." + name)
            ?? throw new InvalidOperationException($"The gate script {name} is missing from {typeof(GateScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
