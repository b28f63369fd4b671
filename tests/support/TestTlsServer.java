import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * Test support: a small JSSE echo server on 127.0.0.1 (port chosen by the system) serving a keystore a test made, so
 * client tests need neither server.java nor a fixed port. Also runs in its own JVM:
 * {@code java tests/support/TestTlsServer.java KEYSTORE PASSWORD_FILE TLSv1} for a server of an old TLS version only
 * (re-enabling TLS 1.0 changes a JVM-wide security property, so it must not happen inside the test JVM).
 */
final class TestTlsServer implements AutoCloseable {
    final SSLServerSocket listener;
    final int port;
    private final List<Socket> connections = new ArrayList<>();
    /** What the server answers to each line; null closes the connection. Tests change it to fake a broken server. */
    volatile UnaryOperator<String> reply = line -> line;

    /** Serves the key entry (with its certificate chain) of a PKCS12 keystore whose password is in passwordFile. */
    TestTlsServer(Path keystore, Path passwordFile, String... protocols) throws Exception {
        char[] password = Files.readString(passwordFile).strip().toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        listener = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        if (protocols.length > 0) listener.setEnabledProtocols(protocols);
        port = listener.getLocalPort();
        Thread acceptor = new Thread(this::acceptLoop, "test TLS server on port " + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Serves the certgen.sh layout: DIR/server.p12 with its password in DIR/server.pass. */
    static TestTlsServer serving(Path certsDir) throws Exception {
        return new TestTlsServer(certsDir.resolve("server.p12"), certsDir.resolve("server.pass"));
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                synchronized (connections) {
                    connections.add(socket);
                }
                Thread echo = new Thread(() -> echo(socket, reply), "test TLS echo");
                echo.setDaemon(true);
                echo.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** Echoes lines; a client that rejects the handshake just ends the connection (that is what the tests provoke). */
    private static void echo(Socket socket, UnaryOperator<String> reply) {
        try (socket) {
            socket.setSoTimeout(30_000);
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            OutputStream out = socket.getOutputStream();
            for (String line; (line = in.readLine()) != null; ) {
                String answer = reply.apply(line);
                if (answer == null) return;
                out.write((answer + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException expected) {
            // Handshake refused by the client, or the connection dropped: nothing to echo.
        }
    }

    @Override public void close() throws IOException {
        listener.close();
        synchronized (connections) {
            for (Socket socket : connections) socket.close();
        }
    }

    /**
     * The tests' one way to re-enable TLS 1.0/1.1 in a JVM of its own, before JSSE starts: these entries out of the
     * JDK's comma-separated disabled list, then a throwaway context must offer them. Exits 2 with one line if not.
     */
    static void allowLegacyTls(String... versions) {
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        Security.setProperty("jdk.tls.disabledAlgorithms", Arrays.stream(disabled.split(",")).map(String::strip)
                .filter(entry -> !List.of(versions).contains(entry)).collect(Collectors.joining(", ")));
        try {
            SSLContext probe = SSLContext.getInstance("TLS");
            probe.init(null, null, null);
            if (Arrays.asList(probe.getDefaultSSLParameters().getProtocols()).containsAll(List.of(versions))) return;
        } catch (GeneralSecurityException e) {
            // reported below
        }
        System.out.println("refused: this JDK does not offer " + String.join(", ", versions) + " even re-enabled");
        System.exit(2);
    }

    /** Own-JVM mode: prints "Listening on 127.0.0.1:PORT" and serves until killed. */
    public static void main(String... args) throws Exception {
        String[] protocols = args.length > 2 ? args[2].split(",") : new String[0];
        List<String> legacy = Arrays.stream(protocols).filter(name -> name.matches("TLSv1(\\.1)?")).toList();
        if (!legacy.isEmpty()) allowLegacyTls(legacy.toArray(String[]::new));
        try (var server = new TestTlsServer(Path.of(args[0]), Path.of(args[1]), protocols)) {
            System.out.println("Listening on 127.0.0.1:" + server.port);
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
