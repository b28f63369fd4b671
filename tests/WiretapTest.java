import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/Wiretap.java run as a student runs it (./jbang, from a folder holding certs/), between real clients and
 * servers on loopback: what it shows of plain TCP, of TLS, and as a man in the middle; and that it relays exactly.
 */
class WiretapTest {
    static final Duration RUN = Duration.ofMinutes(3);
    static final String SECRET = "my password is swordfish";

    @TempDir static Path dir;
    static Path certs, mitmCerts;
    static Peers.OurServer tlsServer;
    static Lab.Background plainServer;
    static int plainPort;

    @BeforeAll static void certificatesAndServers() throws Exception {
        var pool = Executors.newFixedThreadPool(2);
        try {
            Future<Path> lab = pool.submit(() -> Lab.certs(dir));
            Future<Path> mitm = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("mitm"))));
            certs = lab.get();
            mitmCerts = mitm.get();
        } finally {
            pool.shutdown();
        }
        tlsServer = new Peers.OurServer(dir, certs);
        plainPort = Peers.freePort();
        plainServer = new Lab.Background(dir, Map.of(), List.of("java",
                Lab.ROOT.resolve("examples/PlainEchoServer.java").toString(), "" + plainPort));
        plainServer.await("Listening on", Duration.ofSeconds(60));
    }

    @AfterAll static void stopServers() {
        if (tlsServer != null) tlsServer.close();
        if (plainServer != null) plainServer.close();
    }

    /** A running tap, and the port it listens on (--listen 0: any free one, printed in its first line). */
    record Tap(Lab.Background process, int port) implements AutoCloseable {
        @Override public void close() { process.close(); }

        /** The transcript once connection #id has closed (its last line), so that nothing is still coming. */
        String closed(int id) throws InterruptedException {
            return printed("^#" + id + " closed: ");
        }

        /** The transcript once a line matches regex, anywhere: the lines of several connections come in any order. */
        String printed(String regex) throws InterruptedException {
            return process.awaitAnywhere(regex, Duration.ofSeconds(30));
        }
    }

    static Tap tap(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Lab.ROOT.resolve("examples/Wiretap.java").toString(),
                "--listen", "0"));
        command.addAll(List.of(args));
        var process = new Lab.Background(dir, Map.of(), Lab.withLauncher(command.toArray(String[]::new)));
        try {
            return new Tap(process, Integer.parseInt(process.await("Wiretap listening on \\S+:(\\d+)", RUN).group(1)));
        } catch (Throwable e) {
            process.close();
            throw e;
        }
    }

    /** client.java as a student runs it, in the folder whose certs/server.crt it trusts by default. */
    static Lab.Result client(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(Lab.ROOT.resolve("client.java").toString()));
        command.addAll(List.of(args));
        return Lab.run(dir, RUN, env, Lab.withLauncher(command.toArray(String[]::new)));
    }

    @Test void plainTcpThroughTheTapShowsTheTextAndHexAndIsRelayedExactlyWithHalfClose() throws Exception {
        try (Tap tap = tap("--to", "localhost:" + plainPort)) {
            Lab.Result client = Lab.run(dir, RUN, Map.of(), List.of("java",
                    Lab.ROOT.resolve("examples/PlainEchoClient.java").toString(), "127.0.0.1", "" + tap.port()),
                    (SECRET + "\n").getBytes(StandardCharsets.UTF_8));
            assertEquals(0, client.exitCode(), client.toString());
            assertTrue(client.stdout().contains("echo: " + SECRET + "\n"), client.toString());
            String transcript = tap.closed(1);
            assertTrue(transcript.contains("#1 client -> server, 25 bytes:\n    " + SECRET + "\n"), transcript);
            assertTrue(transcript.contains("#1 server -> client, 25 bytes:\n    " + SECRET + "\n"), transcript);

            // Binary, 64 KiB: shown as a capped hex dump; the end of input travels on (the server then closes).
            byte[] data = ServerTest.random(64 * 1024, 12);
            data[0] = 0;   // not a TLS record header: shown as bytes
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), tap.port())) {
                socket.setSoTimeout(30_000);
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        socket.getOutputStream().write(data);
                        socket.shutdownOutput();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, ServerTest.WRITERS);
                assertArrayEquals(data, socket.getInputStream().readAllBytes(), "echo up to the server's close");
                writer.get(30, TimeUnit.SECONDS);
            }
            transcript = tap.closed(2);
            assertTrue(transcript.contains("#2 closed: 65536 bytes client -> server, 65536 bytes server -> client"),
                    transcript);
            assertTrue(transcript.contains("\n    00000000: 00" + String.format("%02x", data[1])), transcript);
            assertTrue(transcript.contains(" more bytes not shown (--dump)"), transcript);
            assertTrue(transcript.length() < 100_000, "transcript of " + transcript.length() + " characters");
        }
    }

    @Test void tlsThroughTheTapShowsRecordsAndSniButNotTheLine() throws Exception {
        try (Tap tap = tap("--to", "localhost:" + tlsServer.port)) {
            Lab.Result client = client(Map.of(), "localhost", "" + tap.port(), "--message", SECRET);
            assertEquals(0, client.exitCode(), client.toString());
            assertTrue(client.stdout().contains("echo: " + SECRET + "\n"), client.toString());
            String transcript = tap.closed(1);
            assertTrue(transcript.contains("  TLS record: handshake, TLS 1.2, "), transcript);
            assertTrue(transcript.matches("(?s).*\n    ClientHello, \\d+ bytes: SNI localhost, offers TLS 1\\.3, "
                    + "TLS 1\\.2, \\d+ cipher suites\n.*"), transcript);
            assertTrue(transcript.contains("ServerHello, "), transcript);
            assertTrue(transcript.contains("chose TLS 1.3"), transcript);
            assertTrue(transcript.contains("change_cipher_spec"), transcript);
            assertTrue(transcript.matches("(?s).*\n  application data, \\d+ bytes \\(encrypted\\): [0-9a-f ]+.*"),
                    transcript);
            assertFalse(transcript.contains("swordfish"), transcript);
            assertFalse(transcript.contains("Certificate, "), "TLS 1.3 encrypts the certificate:\n" + transcript);
        }
    }

    @Test void tls12ShowsTheServerCertificateInClearAndTheFinishedEncrypted() throws Exception {
        try (Tap tap = tap("--to", "localhost:" + tlsServer.port)) {
            Lab.Result client = client(Map.of(), "localhost", "" + tap.port(), "--tls", "1.2", "--message", SECRET);
            assertEquals(0, client.exitCode(), client.toString());
            String subject = TestCerts.read(certs.resolve("server.crt")).getSubjectX500Principal().getName();
            String transcript = tap.closed(1);
            assertTrue(transcript.contains("offers TLS 1.2, "), transcript);
            assertTrue(transcript.contains("chose TLS 1.2"), transcript);
            assertTrue(transcript.contains("    Certificate, "), transcript);
            assertTrue(transcript.contains(": in clear, subject " + subject + ", "), transcript);
            assertTrue(transcript.contains("from here on this side's records are encrypted"), transcript);
            assertTrue(transcript.contains("(encrypted: the Finished message, after ChangeCipherSpec)"), transcript);
            assertFalse(transcript.contains("swordfish"), transcript);
        }
    }

    @Test void opensslGetsAByteExactEchoThroughTheTap() throws Exception {
        Peers.require("openssl", "openssl");
        try (Tap tap = tap("--to", "localhost:" + tlsServer.port)) {
            byte[] line = "Grüße through the tap ✓\n".getBytes(StandardCharsets.UTF_8);
            Lab.Result c = Peers.converse(dir, List.of("openssl", "s_client", "-brief", "-connect",
                    "localhost:" + tap.port(), "-CAfile", certs.resolve("server.crt").toString(),
                    "-verify_hostname", "localhost", "-verify_return_error"), line, Duration.ofSeconds(60));
            assertEquals(0, c.exitCode(), c::toString);
            assertArrayEquals(line, c.stdoutBytes(), c::toString);
            assertTrue(tap.closed(1).contains("application data"), tap.process()::transcript);
        }
    }

    @Test void aMebibyteAndSeveralConnectionsAtOnceAreRelayedExactlyAndTheTranscriptStaysSmall() throws Exception {
        try (Tap tap = tap("--to", "localhost:" + tlsServer.port)) {
            SSLContext trusting = ServerTest.trusting(certs.resolve("server.crt"));   // exactly our certificate
            var pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> clients = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    byte[] data = ServerTest.random(i == 0 ? 1 << 20 : 64 * 1024, i);
                    clients.add(pool.submit(() -> {
                        try (SSLSocket socket = ServerTest.connect(trusting, tap.port())) {
                            assertArrayEquals(data, ServerTest.roundTrip(socket, data));
                        }
                        return null;
                    }));
                }
                for (Future<?> client : clients) client.get(120, TimeUnit.SECONDS);
            } finally {
                pool.shutdown();
            }
            for (int id = 1; id <= 4; id++) tap.closed(id);
            String transcript = tap.process().transcript();
            assertTrue(transcript.matches("(?s).*#\\d closed: 10\\d{5} bytes client -> server, 10\\d{5} bytes.*"),
                    transcript);
            assertTrue(transcript.length() < 200_000, "transcript of " + transcript.length() + " characters");
        }
    }

    @Test void asManInTheMiddleItIsRefusedByACheckingClientAndReadsEverythingOnceTrusted() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path known = home.resolve("scratch_known_servers.pem");
        // A fresh HOME, so nothing lands in the real ~/.tls-echo-lab; JBang's cache stays the real one.
        Map<String, String> env = Map.of("HOME", home.toString(), "JBANG_DIR", System.getenv().getOrDefault(
                "JBANG_DIR", Path.of(System.getProperty("user.home"), ".jbang").toString()));
        try (Tap tap = tap("--to", "localhost:" + tlsServer.port, "--mitm", mitmCerts.resolve("server.p12").toString(),
                "--trust", certs.resolve("server.crt").toString())) {
            Matcher tapPrint = tap.process().await("SHA-256 fingerprint: ([0-9A-F:]+)", Duration.ofSeconds(30));

            Lab.Result refused = client(env, "localhost", "" + tap.port(), "--trust-new", "no", "--message", SECRET);
            assertEquals(4, refused.exitCode(), refused.toString());
            tap.printed("(?m)^#1 the client refused the tap's certificate");

            Lab.Result fooled = client(env, "localhost", "" + tap.port(), "--trust-new", "yes",
                    "--known-servers", known.toString(), "--message", SECRET);
            assertEquals(0, fooled.exitCode(), fooled.toString());
            assertTrue(fooled.stdout().contains("echo: " + SECRET + "\n"), fooled.toString());
            // What the student should have compared: the tap's fingerprint, not the server's.
            String serverFingerprint = TestCerts.fingerprint(TestCerts.read(certs.resolve("server.crt")));
            assertTrue(fooled.stdout().contains(tapPrint.group(1)), fooled.toString());
            assertNotEquals(serverFingerprint, tapPrint.group(1));
            assertTrue(Files.readString(known).contains(tapPrint.group(1)));

            String transcript = tap.process().transcript();
            Matcher decrypted = Pattern.compile("#(\\d+) client -> server \\(decrypted by the tap\\), 25 bytes:\n    "
                    + SECRET + "\n").matcher(transcript);
            assertTrue(decrypted.find(), transcript);
            transcript = tap.closed(Integer.parseInt(decrypted.group(1)));
            assertTrue(transcript.contains(" server -> client (decrypted by the tap), 25 bytes:\n    " + SECRET),
                    transcript);
        }
    }

    @Test void aTapThatCannotVerifyTheServerRelaysNothing() throws Exception {
        // --trust names another certificate than the server's: the tap's own check fails, as a careful client's does.
        try (Tap tap = tap("--to", "localhost:" + tlsServer.port, "--mitm", mitmCerts.resolve("server.p12").toString(),
                "--trust", mitmCerts.resolve("server.crt").toString())) {
            Lab.Result client = client(Map.of(), "localhost", "" + tap.port(), "--trust",
                    mitmCerts.resolve("server.crt").toString(), "--message", SECRET);
            assertNotEquals(0, client.exitCode(), client.toString());
            tap.printed("(?m)^#1 cannot reach localhost:\\d+: its certificate is not the one in --trust");
            assertFalse(tap.process().transcript().contains("swordfish"), tap.process()::transcript);
        }
    }

    @Test void errorsAreOneLineWithTheirExitCodesAndCtrlCStopsCleanly() throws Exception {
        String wiretap = Lab.ROOT.resolve("examples/Wiretap.java").toString();
        Lab.Result usage = Lab.jbang(dir, RUN, wiretap, "--listen", "0");
        assertEquals(2, usage.exitCode(), usage.toString());
        assertTrue(usage.stderr().matches("error: .*--to.*\nTry './jbang examples/Wiretap.java --help'.\n"),
                usage.toString());

        Lab.Result help = Lab.jbang(dir, RUN, wiretap, "--help");
        assertEquals(0, help.exitCode(), help.toString());
        assertTrue(help.stdout().contains("Exit codes:") && help.stdout().contains("4   cannot listen"),
                help.toString());

        try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Lab.Result busy = Lab.jbang(dir, RUN, wiretap, "--listen", "" + taken.getLocalPort(),
                    "--to", "localhost:1");
            assertEquals(4, busy.exitCode(), busy.toString());
            assertTrue(busy.stderr().matches("Wiretap: cannot listen on 127\\.0\\.0\\.1:\\d+ [^\n]*\n"),
                    busy.toString());
        }

        Lab.Result badKeystore = Lab.jbang(dir, RUN, wiretap, "--listen", "0", "--to", "localhost:1",
                "--mitm", dir.resolve("nothing.p12").toString());
        assertEquals(3, badKeystore.exitCode(), badKeystore.toString());
        assertTrue(badKeystore.stderr().matches("Wiretap: [^\n]*nothing\\.p12 not found[^\n]*\n"),
                badKeystore.toString());

        // Nothing listens on the target: the connection is closed, with one line; the tap keeps going.
        try (Tap tap = tap("--to", "localhost:" + Peers.freePort())) {
            for (int id = 1; id <= 2; id++) {
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), tap.port())) {
                    socket.setSoTimeout(30_000);
                    assertEquals(-1, socket.getInputStream().read());
                }
                tap.printed("(?m)^#" + id + " cannot reach localhost:\\d+: connection refused");
            }
            Process process = tap.process().process;
            // SIGTERM, as Ctrl-C. Not Process.destroy(): it closes our end of the pipe, and the last lines are lost.
            assertEquals(0, Lab.run(dir, RUN, Map.of(), List.of("kill", "-TERM", "" + process.pid())).exitCode());
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, process.exitValue(), tap.process()::transcript);
            tap.printed("(?m)^Wiretap stopped after 2 connection\\(s\\)\\.$");
        }
    }

    @Test void theScriptStandsAloneAndTrustsNothingBlindly() throws Exception {
        List<String> lines = Files.readAllLines(Lab.ROOT.resolve("examples/Wiretap.java"));
        assertEquals("///usr/bin/env jbang \"$0\" \"$@\" ; exit $?", lines.get(0));
        assertEquals(List.of("//DEPS info.picocli:picocli:4.7.7"),
                lines.stream().filter(line -> line.startsWith("//DEPS")).toList());
        assertTrue(lines.stream().allMatch(line -> line.length() <= 120), "a line over 120 characters");
        for (String trustAll : List.of("X509TrustManager", "HostnameVerifier", "checkServerTrusted", "TrustAll")) {
            assertTrue(lines.stream().noneMatch(line -> line.contains(trustAll)), trustAll);
        }
        assertTrue(lines.stream().anyMatch(line -> line.contains("setEndpointIdentificationAlgorithm(\"HTTPS\")")));
    }
}
