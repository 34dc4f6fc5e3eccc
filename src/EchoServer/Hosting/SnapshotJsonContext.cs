using System.Text.Json.Serialization;
using EchoServer.Connections;

namespace EchoServer.Hosting;

/// <summary>Source-generated JSON for <c>/snapshot.json</c>: camelCase, no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SnapshotData))]
internal sealed partial class SnapshotJsonContext : JsonSerializerContext;
