namespace EchoServer.Tls;

/// <summary>A certificate, key, password or CA file the server cannot use; its message is one line for the user.</summary>
internal sealed class TlsSetupException(string message) : Exception(message);
