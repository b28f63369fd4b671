///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.*;

/** The lab's worked solution: the echo server of step 0 over TLS, with the certificate ./certgen.sh made in certs/. */
public class TlsEchoServer {
    static final int DEFAULT_PORT = 8443;
    static final Path KEYSTORE = Path.of("certs/server.p12");   // made by ./certgen.sh, in the folder we start in
    static final Path PASSWORD_FILE = Path.of("certs/server.pass");

    public static void main(String... args) throws InterruptedException {
        if (args.length > 1) usage("too many arguments");
        if (args.length == 1 && !isPort(args[0])) usage(args[0] + " is not a port number (0 to 65535)");
        int port = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT;
        try {
            SSLContext context = serverContext();   // 8.1: one context for all connections: our key and certificate
            // 8.2, option 2: wrap the listening socket; its accept() returns SSLSockets, in server mode.
            // Option 1 listens in plain TCP and wraps each accepted socket, as the server side, with its own protocols:
            //   ServerSocket listener = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
            //   SSLSocket client = (SSLSocket) context.getSocketFactory().createSocket(listener.accept(), null, true);
            //   client.setUseClientMode(false);   // Python's server_side=True
            //   client.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            try (SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
                    .createServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
                listener.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});   // only these, said out loud
                System.out.println("Listening on " + listener.getInetAddress().getHostAddress() + ":"
                        + listener.getLocalPort() + " (TLS)");   // the real port, also when 0 asked for any free one
                // 64 threads at most, so a flood of clients waits in line instead of taking all memory and threads.
                ExecutorService workers = Executors.newFixedThreadPool(64);
                while (true) {
                    try {
                        SSLSocket client = (SSLSocket) listener.accept();
                        workers.execute(() -> echo(client));
                    } catch (IOException e) {   // 8.3: e.g. too many open files: one line, a pause, and go on
                        System.out.println("cannot accept a connection (" + e.getMessage() + "): trying again in 1 s");
                        Thread.sleep(1000);
                    }
                }
            }
        } catch (NoSuchFileException e) {   // 8.3: startup problems are one line that says how to fix them
            fail(e.getFile() + " not found: run ./certgen.sh first, in this folder.");
        } catch (BindException e) {
            fail("cannot listen on port " + port + " (in use, or below 1024 without permission): stop the other"
                    + " server, or give another PORT.");
        } catch (IOException | GeneralSecurityException e) {   // a wrong password arrives as an IOException too
            fail("cannot open " + KEYSTORE + " with the password in " + PASSWORD_FILE
                    + " (wrong password, or not a PKCS12 keystore): make both again with ./certgen.sh --force.");
        }
    }

    /** 8.1: the server's context: the key and certificate from the keystore ./certgen.sh made, and its password. */
    static SSLContext serverContext() throws IOException, GeneralSecurityException {
        char[] password = Files.readString(PASSWORD_FILE).strip().toCharArray();   // strip: a newline may end it
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(KEYSTORE)) {
            keyStore.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(keyStore, password);
        SSLContext context = SSLContext.getInstance("TLS");
        // null trust managers mean the JDK's default ones; unused here, as this server asks no client for a certificate
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }

    static void echo(SSLSocket client) {
        String peer = client.getInetAddress().getHostAddress() + ":" + client.getPort();
        try (client; InputStream in = client.getInputStream(); OutputStream out = client.getOutputStream()) {
            try {   // The handshake runs here, on this connection's thread: a slow client never holds up accept().
                client.setSoTimeout(10_000);   // a client that connects and says nothing is dropped after 10 s
                client.startHandshake();
            } catch (SSLException | SocketTimeoutException e) {   // 8.3: a bad client ends its own connection only
                System.out.println(peer + " handshake failed: " + meaning(e));
                return;
            }
            client.setSoTimeout(60_000);   // and one that stops talking after 60 s: its thread is for the others
            byte[] buffer = new byte[4096];
            for (int n; (n = in.read(buffer)) != -1; ) {
                System.out.println(peer + " sent " + n + " bytes: " + readable(buffer, n));
                out.write(buffer, 0, n);
            }
            System.out.println(peer + " closed the connection");
        } catch (SocketTimeoutException e) {
            System.out.println(peer + " sent nothing for 60 s: connection closed");
        } catch (IOException e) {
            System.out.println(peer + " connection error: " + e.getMessage());
        }
    }

    /** What a failed handshake means, told by the exception's type: the JDK's messages differ between versions. */
    static String meaning(IOException e) {
        if (e instanceof SocketTimeoutException) return "no TLS handshake within 10 s";
        if (e instanceof SSLHandshakeException) return "SSLHandshakeException (the client refused our certificate,"
                + " shares no TLS version with us, or hung up)";
        return e.getClass().getSimpleName() + " (not TLS: the client sent something else, e.g. plain text)";
    }

    /** The bytes as a packet capture's text column shows them: letters as is, anything else as a dot; 40 at most. */
    static String readable(byte[] bytes, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(length, 40); i++) {
            text.append(bytes[i] >= 0x20 && bytes[i] < 0x7f ? (char) bytes[i] : '.');
        }
        return length > 40 ? text + " (first 40 shown)" : text.toString();
    }

    static boolean isPort(String text) {   // 0 to 65535, digits only; 0 asks the system for any free port
        return text.matches("[0-9]{1,5}") && Integer.parseInt(text) <= 65535;
    }

    static void usage(String problem) {   // 8.3: a typing mistake is two lines and exit status 2, not a stack trace
        System.err.println("TlsEchoServer: " + problem);
        System.err.println("usage: java examples/TlsEchoServer.java [PORT]");
        System.exit(2);
    }

    static void fail(String problemAndFix) {   // one line on stderr and exit status 1
        System.err.println("TlsEchoServer: " + problemAndFix);
        System.exit(1);
    }
}
