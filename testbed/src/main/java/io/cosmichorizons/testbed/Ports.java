package io.cosmichorizons.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Small helpers for choosing TCP ports on the loopback interface. */
public final class Ports {

    private Ports() {
    }

    /** A port that was free on 127.0.0.1 a moment ago (the OS picks it; another process may still take it). */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not find a free TCP port", e);
        }
    }

    /** Whether nothing listens on {@code port}, neither on 127.0.0.1 nor on the wildcard address. */
    public static boolean isFree(int port) {
        if (port <= 0 || port > 65535) {
            return false;
        }
        // A listener on 127.0.0.1 or 0.0.0.0 accepts a loopback connection.
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return false;
        } catch (IOException expected) {
            // nothing answered
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code preferred} if it is free, otherwise a free port chosen by the OS. */
    public static int preferredOrFree(int preferred) {
        return isFree(preferred) ? preferred : freePort();
    }

    /** Whether something accepts TCP connections on 127.0.0.1:{@code port} right now. */
    static boolean accepts(int port, int timeoutMillis) {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
