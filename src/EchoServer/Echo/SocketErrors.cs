using System.Net.Sockets;

namespace EchoServer.Echo;

/// <summary>How socket errors map to close reasons, and the socket calls that may fail harmlessly.</summary>
internal static class SocketErrors
{
    /// <summary>A reset, abort or broken pipe is the client's normal way to leave; anything else is an error worth logging.</summary>
    public static CloseReason ToCloseReason(SocketError error) => error switch
    {
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            or SocketError.NotConnected or SocketError.TimedOut or SocketError.OperationAborted => CloseReason.Reset,
        _ => CloseReason.Error,
    };

    /// <summary>Sends FIN after the last echoed byte; the peer may already be gone.</summary>
    public static void TryShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer reset meanwhile; nothing left to deliver.
        }
    }
}
