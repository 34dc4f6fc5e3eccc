namespace EchoServer.Hosting;

/// <summary>A configuration the server refuses to start with; its message is the one line shown to the user.</summary>
internal sealed class StartupException(string message) : Exception(message);
