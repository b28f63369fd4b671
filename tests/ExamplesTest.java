import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The worked solution, examples/TlsEchoServer.java and examples/TlsEchoClient.java, run as a student runs them (with
 * {@code java FILE} and with {@code ./jbang FILE}, from a folder holding the certs/ that certgen.sh made), over real
 * TLS on loopback. Assertions look at what the programs print, never at the JDK's exception messages.
 */
class ExamplesTest {
    static final Path EXAMPLES = Lab.ROOT.resolve("examples");
    static final Duration JAVA_RUN = Duration.ofSeconds(60), JBANG_RUN = Duration.ofMinutes(3);

    @TempDir static Path dir;
    /** Folders that each hold a certs/ set made by certgen.sh: the lab's, another one, an expired and a future one. */
    static Path lab, other, expired, future;
    /** A certificate (TestCerts layout, no certs/ folder) valid only for other.test. */
    static Path otherName;
    /** The example server, run with java from the lab folder, shared by the client tests. */
    static Lab.Background server;
    static int port;

    @BeforeAll static void certificatesAndServer() throws Exception {
        var pool = Executors.newFixedThreadPool(3);   // each keytool run is a JVM start: three at a time
        try {
            var labCerts = pool.submit(() -> certsIn("lab"));
            var otherCerts = pool.submit(() -> certsIn("other"));
            var expiredCerts = pool.submit(() -> certsIn("expired", "--start", "-30d", "--days", "1"));
            var futureCerts = pool.submit(() -> certsIn("future", "--start", "+10d"));
            var otherNameCerts = pool.submit(() -> TestCerts.selfSigned(dir.resolve("othername"), "other.test", "dns:other.test"));
            lab = labCerts.get();
            other = otherCerts.get();
            expired = expiredCerts.get();
            future = futureCerts.get();
            otherName = otherNameCerts.get();
        } finally {
            pool.shutdown();
        }
        port = Peers.freePort();
        server = startServer(java("TlsEchoServer", "" + port), port);
    }

    @AfterAll static void stopServer() {
        if (server != null) server.close();
    }

    static Path certsIn(String name, String... certgenArgs) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(name));
        Lab.certs(folder, certgenArgs);
        return folder;
    }

    /** {@code java examples/NAME.java ARGS}, with the JDK that runs these tests. */
    static List<String> java(String name, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                EXAMPLES.resolve(name + ".java").toString()));
        command.addAll(List.of(args));
        return command;
    }

    /** {@code ./jbang examples/NAME.java ARGS}. */
    static List<String> jbang(String name, String... args) {
        List<String> command = new ArrayList<>(List.of(EXAMPLES.resolve(name + ".java").toString()));
        command.addAll(List.of(args));
        return Lab.withLauncher(command.toArray(String[]::new));
    }

    /** Starts the example server in the lab folder (where certs/ is) and waits for its banner. */
    static Lab.Background startServer(List<String> command, int port) throws Exception {
        var started = new Lab.Background(lab, Map.of(), command);
        started.await("^Listening on 127\\.0\\.0\\.1:" + port + " \\(TLS\\)$", JBANG_RUN);
        return started;
    }

    static Lab.Result run(Path in, Duration timeout, List<String> command, String stdin) {
        return Lab.run(in, timeout, Map.of(), command, stdin.getBytes(StandardCharsets.UTF_8));
    }

    /** Waits until the process has printed text (anywhere, in any order: the server logs each connection's thread). */
    static void awaitOutput(Lab.Background process, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!process.transcript().contains(text)) {
            if (System.nanoTime() > deadline) throw new AssertionError("no '" + text + "' within " + timeout + ":\n" + process.transcript());
            Thread.sleep(50);
        }
    }

    static void assertNoStackTrace(String output) {
        assertFalse(output.contains("at java.") || output.contains("Exception in thread"), output);
    }

    static X509Certificate certificate(Path certsFolder) throws Exception {
        try (InputStream in = Files.newInputStream(certsFolder.resolve("certs/server.crt"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    static String keytoolLine(Path crt, String regex) {
        String printed = TestCerts.keytool(dir, "-printcert", "-file", crt.toString()).stdout();
        Matcher m = Pattern.compile(regex).matcher(printed);
        assertTrue(m.find(), printed);
        return m.group(1);
    }

    /** A session as the student sees it: the report of the lab's certificate, then the echoes. */
    static void assertReportAndEchoes(Lab.Result client, int port) throws Exception {
        assertEquals(0, client.exitCode(), client::toString);
        X509Certificate cert = certificate(lab);
        Path crt = lab.resolve("certs/server.crt");
        for (String line : List.of("Connected to localhost:" + port + " (TLS, certificate and host name verified)\n",
                "Server certificate:\n  Subject: CN=localhost\n  Issuer: CN=localhost\n",
                "  Subject alternative names: DNS:localhost, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1\n",
                "  Not before: " + cert.getNotBefore().toInstant() + "\n  Not after: " + cert.getNotAfter().toInstant() + "\n",
                "  Serial number: " + keytoolLine(crt, "Serial number: ([0-9a-f]+)").toUpperCase() + "\n",
                "  Public key: EC, 256 bits\n  Signature algorithm: SHA256withECDSA\n",
                "  SHA-256 fingerprint: " + keytoolLine(crt, "SHA256: ([0-9A-F:]+)") + "\n",
                "Session: TLSv1.3, TLS_", "echo: hello\necho: TLS!\n")) {
            assertTrue(client.stdout().contains(line), () -> "missing \"" + line + "\" in\n" + client);
        }
    }

    @Test void serverAndClientRunWithJava() throws Exception {
        Lab.Result client = run(lab, JAVA_RUN, java("TlsEchoClient", "localhost", "" + port), "hello\nTLS!\n");
        assertReportAndEchoes(client, port);
        assertEquals("", client.stderr(), client::toString);
        awaitOutput(server, " sent 6 bytes: hello.", Duration.ofSeconds(10));
        awaitOutput(server, " sent 5 bytes: TLS!.", Duration.ofSeconds(10));
        String password = Files.readString(lab.resolve("certs/server.pass")).strip();
        assertFalse(server.transcript().contains(password), "the server never prints its password");
    }

    @Test void serverAndClientRunWithJbang() throws Exception {
        int jbangPort = Peers.freePort();
        try (var jbangServer = startServer(jbang("TlsEchoServer", "" + jbangPort), jbangPort)) {
            Lab.Result client = run(lab, JBANG_RUN, jbang("TlsEchoClient", "localhost", "" + jbangPort), "hello\nTLS!\n");
            assertReportAndEchoes(client, jbangPort);
            assertNoStackTrace(client.all());
            awaitOutput(jbangServer, " closed the connection", Duration.ofSeconds(10));
        }
    }

    @ParameterizedTest @ValueSource(strings = {"-tls1_3", "-tls1_2"})
    void serverServesOpensslWithHostNameVerification(String version) throws Exception {
        Peers.require("openssl", "openssl");
        String message = "echo me over " + version;
        try (var openssl = new Lab.Background(lab, Map.of(), List.of("openssl", "s_client", version, "-connect",
                "localhost:" + port, "-CAfile", "certs/server.crt", "-verify_hostname", "localhost", "-verify_return_error",
                "-quiet"))) {
            openssl.process.getOutputStream().write((message + "\n").getBytes(StandardCharsets.UTF_8));
            openssl.process.getOutputStream().flush();
            openssl.await("^" + message + "$", Duration.ofSeconds(20));
        }
        awaitOutput(server, " bytes: " + message + ".", Duration.ofSeconds(10));
    }

    @Test void serverSurvivesPlaintextAndSilentClients() throws Exception {
        int ownPort = Peers.freePort();
        try (var ownServer = startServer(java("TlsEchoServer", "" + ownPort), ownPort);
             Socket silent = new Socket(InetAddress.getLoopbackAddress(), ownPort);
             Socket plaintext = new Socket(InetAddress.getLoopbackAddress(), ownPort)) {
            byte[] garbage = new byte[4096];   // an HTTP request, then noise: one write, before the server hangs up
            new Random(42).nextBytes(garbage);
            byte[] http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(http, 0, garbage, 0, http.length);
            plaintext.getOutputStream().write(garbage);
            awaitOutput(ownServer, "127.0.0.1:" + plaintext.getLocalPort() + " handshake failed: ", Duration.ofSeconds(10));

            // While the silent client holds its connection (and its thread), the next client is served.
            Lab.Result client = run(lab, JAVA_RUN, java("TlsEchoClient", "localhost", "" + ownPort), "still here\n");
            assertEquals(0, client.exitCode(), client::toString);
            assertTrue(client.stdout().contains("echo: still here\n"), client::toString);
            // Then the handshake's time limit drops the silent one.
            awaitOutput(ownServer, "127.0.0.1:" + silent.getLocalPort() + " handshake failed: no TLS handshake within 10 s",
                    Duration.ofSeconds(30));
            assertTrue(ownServer.process.isAlive(), ownServer::transcript);
            assertNoStackTrace(ownServer.transcript());
        }
    }

    @Test void serverStartupProblemsAreOneLineAndExitNonZero() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-certs-here"));
        Lab.Result noCerts = run(empty, JAVA_RUN, java("TlsEchoServer", "" + Peers.freePort()), "");
        assertStartupFailure(noCerts, "./certgen.sh");

        Path wrong = Files.createDirectories(dir.resolve("wrong-password/certs"));
        Files.copy(lab.resolve("certs/server.p12"), wrong.resolve("server.p12"));
        Files.writeString(wrong.resolve("server.pass"), "not-the-password\n");
        Lab.Result wrongPassword = run(wrong.getParent(), JAVA_RUN, java("TlsEchoServer", "" + Peers.freePort()), "");
        assertStartupFailure(wrongPassword, "certs/server.p12", "./certgen.sh --force");
        assertFalse(wrongPassword.all().contains("not-the-password"), wrongPassword::toString);

        try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Lab.Result portInUse = run(lab, JAVA_RUN, java("TlsEchoServer", "" + taken.getLocalPort()), "");
            assertStartupFailure(portInUse, "port " + taken.getLocalPort(), "PORT");
        }
    }

    static void assertStartupFailure(Lab.Result result, String... phrases) {
        assertNotEquals(0, result.exitCode(), result::toString);
        assertEquals(1, result.stderr().lines().count(), () -> "one line on stderr:\n" + result);
        for (String phrase : phrases) assertTrue(result.stderr().contains(phrase), () -> "no '" + phrase + "' in\n" + result);
        assertNoStackTrace(result.all());
    }

    /** A refusal: a non-zero exit, exactly one line on stderr saying which problem, no echo and no stack trace. */
    static void assertRefused(Lab.Result result, String phrase) {
        assertNotEquals(0, result.exitCode(), result::toString);
        assertEquals(1, result.stderr().lines().count(), () -> "one line on stderr:\n" + result);
        assertTrue(result.stderr().startsWith("TlsEchoClient: "), result::toString);
        assertTrue(result.stderr().contains(phrase), () -> "no '" + phrase + "' in\n" + result);
        assertFalse(result.stdout().contains("echo:"), result::toString);
        assertNoStackTrace(result.all());
    }

    static Lab.Result client(String host, int port, String trustFile) {
        return run(lab, JAVA_RUN, java("TlsEchoClient", host, "" + port, trustFile), "hello\n");
    }

    @Test void clientRefusesACertificateItDoesNotTrust() {
        String otherCrt = other.resolve("certs/server.crt").toString();
        assertRefused(client("localhost", port, otherCrt), "its certificate is not trusted: neither it nor its issuer is in " + otherCrt);
    }

    @Test void clientRefusesACertificateForAnotherName() throws Exception {
        try (var otherServer = TestTlsServer.serving(otherName)) {
            Lab.Result result = client("localhost", otherServer.port, otherName.resolve("server.crt").toString());
            assertRefused(result, "its certificate is not valid for the name localhost");
        }
    }

    @Test void clientRefusesAnExpiredOrNotYetValidCertificateEvenWhenTrusted() throws Exception {
        try (var expiredServer = TestTlsServer.serving(expired.resolve("certs"))) {
            assertRefused(client("localhost", expiredServer.port, expired.resolve("certs/server.crt").toString()), "has expired");
        }
        try (var futureServer = TestTlsServer.serving(future.resolve("certs"))) {
            assertRefused(client("localhost", futureServer.port, future.resolve("certs/server.crt").toString()), "not valid yet");
        }
    }

    @Test void clientExplainsRefusedConnectionsAndServersThatAreNotTls() throws Exception {
        int nobodyThere = Peers.freePort();
        assertRefused(client("localhost", nobodyThere, "certs/server.crt"), "no connection to localhost:" + nobodyThere);

        int plainPort = Peers.freePort();
        try (var plain = new Lab.Background(lab, Map.of(), java("PlainEchoServer", "" + plainPort))) {
            plain.await("^Listening on 127\\.0\\.0\\.1:" + plainPort, Duration.ofSeconds(60));
            assertRefused(client("localhost", plainPort, "certs/server.crt"), "localhost:" + plainPort + ": it does not speak TLS");
        }
    }

    @Test void clientExplainsAMissingOrUnreadableTrustFile() {
        assertRefused(client("localhost", port, "nowhere/server.crt"), "no certificate read from nowhere/server.crt");
        assertRefused(client("localhost", port, "certs/server.p12"), "no certificate read from certs/server.p12");
    }

    @ParameterizedTest @ValueSource(strings = {"TlsEchoServer", "TlsEchoClient"})
    void isASmallJdkOnlyScriptLikeItsPlainTwin(String name) throws IOException {
        List<String> lines = Files.readAllLines(EXAMPLES.resolve(name + ".java"));
        List<String> plain = Files.readAllLines(EXAMPLES.resolve(name.replace("Tls", "Plain") + ".java"));
        assertEquals(plain.subList(0, 2), lines.subList(0, 2), "the plain twin's JBang line and //JAVA directive");
        assertTrue(lines.size() <= 130, name + " has " + lines.size() + " lines");
        for (String line : lines) assertTrue(line.length() <= 120, () -> "longer than 120: " + line);
        String text = String.join("\n", lines);
        assertFalse(text.contains("//DEPS") || text.contains("//SOURCES"), "JDK only");
        // The JDK's source launcher runs the first class in the file.
        Matcher firstClass = Pattern.compile("(?m)^(public )?(final )?(class|interface|record|enum) (\\w+)").matcher(text);
        assertTrue(firstClass.find() && firstClass.group().equals("public class " + name), name + ": the first class is not it");
        // No trust-all shortcut: certificates are checked by the JDK's own PKIX trust manager, and host names always.
        for (String shortcut : List.of("X509TrustManager", "checkServerTrusted", "HostnameVerifier", "InsecureTrustManager")) {
            assertFalse(text.contains(shortcut), shortcut);
        }
    }
}
