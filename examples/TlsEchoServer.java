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
import javax.net.ssl.*;

/** The lab's worked solution: the echo server of step 0 over TLS, with the certificate ./certgen.sh made in certs/. */
public class TlsEchoServer {
    static final int DEFAULT_PORT = 8443;
    static final Path KEYSTORE = Path.of("certs/server.p12");   // made by ./certgen.sh, in the folder we start in
    static final Path PASSWORD_FILE = Path.of("certs/server.pass");

    public static void main(String... args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT;
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
            System.out.println("Listening on " + listener.getInetAddress().getHostAddress() + ":" + port + " (TLS)");
            while (true) {
                SSLSocket client = (SSLSocket) listener.accept();
                new Thread(() -> echo(client)).start();
            }
        } catch (BindException e) {   // 8.3: one line that says what to do, not a stack trace
            System.err.println("TlsEchoServer: cannot listen on port " + port + " (in use, or below 1024 without"
                    + " permission): stop the other server, or give another PORT.");
            System.exit(1);
        }
    }

    /** 8.1: the server's context: the key and certificate from the keystore ./certgen.sh made, and its password. */
    static SSLContext serverContext() {
        try {
            char[] password = Files.readString(PASSWORD_FILE).strip().toCharArray();   // strip: a newline may end it
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(KEYSTORE)) {
                keyStore.load(in, password);
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(keyStore, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);   // no trust managers: clients send no certificates
            return context;
        } catch (NoSuchFileException e) {   // 8.3: startup problems are one line that says how to fix them
            System.err.println("TlsEchoServer: " + e.getFile() + " not found: run ./certgen.sh first, in this folder.");
        } catch (IOException | GeneralSecurityException e) {   // a wrong password arrives as an IOException too
            System.err.println("TlsEchoServer: cannot open " + KEYSTORE + " with the password in " + PASSWORD_FILE
                    + " (wrong password, or not a PKCS12 keystore): make both again with ./certgen.sh --force.");
        }
        System.exit(1);
        return null;   // never reached: the compiler does not know that System.exit() does not return
    }

    static void echo(SSLSocket client) {
        String peer = client.getInetAddress().getHostAddress() + ":" + client.getPort();
        try (client; InputStream in = client.getInputStream(); OutputStream out = client.getOutputStream()) {
            try {   // The handshake runs here, on this connection's thread: a slow client never holds up accept().
                client.setSoTimeout(10_000);   // a client that connects and says nothing is dropped after 10 s
                client.startHandshake();
                client.setSoTimeout(0);        // after the handshake, no limit, as in the plain server
            } catch (SSLException | SocketTimeoutException e) {   // 8.3: a bad client ends its own connection only
                System.out.println(peer + " handshake failed: " + meaning(e));
                return;
            }
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
}
