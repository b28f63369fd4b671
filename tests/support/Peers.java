import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Support for the interop and audit tests: TLS tools we did not write, run as real processes against our scripts.
 * A tool that is not installed makes the test SKIPPED (an assumption), never silently passed; CI installs them all.
 */
final class Peers {
    private Peers() {}

    /** Skips the calling test unless {@code command} is on the PATH; the message names the Debian package. */
    static void require(String command, String debianPackage) {
        assumeTrue(onPath(command), () -> command + " is not installed (Debian package " + debianPackage
                + "; .ci/run installs it): this interop check did not run");
    }

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) return true;
        }
        return false;
    }

    /** Our server, started as a user would with a certgen.sh set, listening on 127.0.0.1 and a free port. */
    static final class OurServer implements AutoCloseable {
        final Lab.Background process;
        final int port;

        OurServer(Path dir, Path certs) throws Exception {
            process = new Lab.Background(dir, Map.of(), Lab.withLauncher(Lab.ROOT.resolve("server.java").toString(), "--port", "0",
                    "--keystore", certs.resolve("server.p12").toString(),
                    "--password-file", certs.resolve("server.pass").toString()));
            try {
                port = Integer.parseInt(process.await("Listening on \\S+:(\\d+)", Duration.ofSeconds(90)).group(1));
            } catch (Throwable e) {
                process.close();
                throw e;
            }
        }

        @Override public void close() { process.close(); }
    }

    /**
     * Runs an interactive TLS client (openssl s_client, gnutls-cli): types {@code message}, waits until it came back
     * (or the client exits, e.g. after a failed verification), then closes its stdin so that it says goodbye and
     * exits. Closing stdin at once instead would race the echo: both tools quit on end of input.
     */
    static Lab.Result converse(Path dir, List<String> command, byte[] message, Duration timeout) throws Exception {
        var peer = new Lab.Background(dir, Map.of(), command, false);
        try (OutputStream in = peer.process.getOutputStream()) {
            in.write(message);
            in.flush();
            peer.find(Pattern.quote(new String(message, StandardCharsets.UTF_8).strip()), timeout);
        } catch (IOException exitedEarly) {
            // It quit before reading what we typed (a failed handshake): its exit code and output tell why.
        }
        return peer.finish(timeout);
    }

    /**
     * Writes the private key of a certgen.sh keystore as unencrypted PKCS#8 PEM, owner-only, for peers that read PEM
     * (openssl s_server, Python's load_cert_chain). It stays in the test's temporary folder and is never printed.
     */
    static Path exportKey(Path certs) throws Exception {
        Path key = certs.resolve("key.pem");
        if (Files.exists(key)) return key;
        char[] password = Files.readString(certs.resolve("server.pass")).strip().toCharArray();
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(certs.resolve("server.p12"))) {
            keyStore.load(in, password);
        }
        byte[] pkcs8 = keyStore.getKey("server", password).getEncoded();
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                + "\n-----END PRIVATE KEY-----\n");
        return key;
    }

    /**
     * The same EC key re-encoded by openssl for GnuTLS: the JDK's PKCS#8 leaves out the optional public key inside
     * the EC key, and GnuTLS 3.7 refuses such a key ("ASN1 parser: Element was not found"); openssl puts it back.
     */
    static Path gnutlsKey(Path certs) throws Exception {
        Path key = certs.resolve("key-gnutls.pem");
        Lab.Result r = Lab.run(certs, Duration.ofSeconds(20), Map.of(), List.of("openssl", "ec",
                "-in", exportKey(certs).toString(), "-out", key.toString()));
        if (r.exitCode() != 0) throw new AssertionError("openssl ec could not re-encode the key:\n" + r);
        return key;
    }

    /**
     * A port that was free a moment ago on 127.0.0.1: for a connection nothing should answer, and for the peers that
     * cannot listen on port 0 and tell the port (racy: another process may take it meanwhile). Every program that
     * can binds port 0 itself and prints the port it got; tests read it from there.
     */
    static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Waits until something accepts TCP connections on 127.0.0.1:{@code port}. */
    static void awaitListening(int port, Process server, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) throw new AssertionError("the server exited with " + server.exitValue());
            try (var probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("nothing listening on 127.0.0.1:" + port + " after " + timeout);
    }
}
