namespace EchoServer.Hosting;

/// <summary>A port the server could not bind; its message is the one line shown to the user, with exit code 1.</summary>
internal sealed class ListenException(string message, Exception innerException) : Exception(message, innerException);
