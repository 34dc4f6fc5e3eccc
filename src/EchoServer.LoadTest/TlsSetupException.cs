namespace EchoServer.LoadTest;

/// <summary>A TLS option that cannot be used as given (a missing or unreadable file, a key that does not match): one line, exit 2.</summary>
internal sealed class TlsSetupException(string message) : Exception(message);
