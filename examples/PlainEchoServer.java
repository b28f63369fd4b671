///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Step 0 of the lab: a plain TCP echo server that logs the bytes it receives, as anyone on the path could read them. */
public class PlainEchoServer {
    static final int DEFAULT_PORT = 7007;

    public static void main(String... args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT;
        try (ServerSocket listener = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            System.out.println("Listening on " + listener.getInetAddress().getHostAddress() + ":" + port + " (plain TCP, no TLS)");
            while (true) {
                Socket client = listener.accept();
                new Thread(() -> echo(client)).start();
            }
        }
    }

    static void echo(Socket client) {
        String peer = client.getInetAddress().getHostAddress() + ":" + client.getPort();
        try (client; InputStream in = client.getInputStream(); OutputStream out = client.getOutputStream()) {
            byte[] buffer = new byte[4096];
            for (int n; (n = in.read(buffer)) != -1; ) {
                System.out.println(peer + " sent " + n + " bytes: " + readable(buffer, n));
                out.write(buffer, 0, n);
            }
            System.out.println(peer + " closed the connection");
        } catch (IOException e) {
            System.out.println(peer + " connection error: " + e.getMessage());
        }
    }

    /** The bytes as a packet capture's text column shows them: letters as is, anything else as a dot; 40 at most. */
    static String readable(byte[] bytes, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(length, 40); i++) {
            text.append(bytes[i] >= 0x20 && bytes[i] < 0x7f ? (char) bytes[i] : '.');
        }
        return length > 40 ? text + " (first 40 shown)" : text.toString();
    }
}
