import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** client.java against real TLS servers on loopback: what it accepts, what it refuses (and how it says so), what it prints. */
class ClientTest {
    @TempDir static Path dir;
    static Path good, other, expired, future, chain, otherName;

    @BeforeAll static void certificates() throws Exception {
        // Each keytool run is a JVM start: three at a time roughly halves the wait, even on two cores.
        var pool = Executors.newFixedThreadPool(3);
        try {
            var goodCerts = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("good"))));
            var otherCerts = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("other"))));
            var expiredCerts = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("expired")), "--start", "-30d", "--days", "1"));
            var futureCerts = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("future")), "--start", "+10d"));
            var chainCerts = pool.submit(() -> {
                Path made = TestCerts.chain(dir.resolve("chain"));
                TestCerts.expiredVariants(made);
                return made;
            });
            var otherNameCerts = pool.submit(() -> TestCerts.selfSigned(dir.resolve("othername"), "other.test", "dns:other.test"));
            good = goodCerts.get();
            other = otherCerts.get();
            expired = expiredCerts.get();
            future = futureCerts.get();
            chain = chainCerts.get();
            otherName = otherNameCerts.get();
        } finally {
            pool.shutdown();
        }
    }

    /**
     * A folder of this test JVM's own, empty: in-process runs look for the lab's certs/server.crt there, never in
     * the checkout (where a developer's own ./certgen.sh would change what the tests see), and find none.
     */
    static final Path HERE = emptyFolder();

    private static Path emptyFolder() {
        try {
            Path folder = Files.createTempDirectory("client-test-");
            folder.toFile().deleteOnExit();
            return folder;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Runs the client in this JVM, as main would (but without System.exit), with its own known-servers file and with
     * no lab certificate (as in a folder without certs/), so without --trust it trusts the JDK's cacerts.
     */
    static Lab.Result client(String stdin, boolean interactive, String... args) {
        return client(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), interactive, args);
    }

    /** As above, reading typed lines and answers from {@code stdin}. */
    static Lab.Result client(InputStream stdin, boolean interactive, String... args) {
        client c = new client();
        c.stdin = stdin;
        c.labCertificate = HERE.resolve("certs/server.crt");
        c.interactive = interactive;
        c.columns = 0;   // the test's own terminal, if any, must not wrap what the tests read
        StringWriter out = new StringWriter(), err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("--known-servers")) {
            all.addAll(List.of("--known-servers", HERE.resolve("unused-known.pem").toString()));
        }
        int exit = client.commandLine(c).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
        return new Lab.Result(exit, out.toString(), err.toString());
    }

    static Lab.Result client(String... args) {
        return client("", false, args);
    }

    /** A refusal: its exit code, one cause line and one fix line naming the problem, and no stack trace. */
    static void assertRefused(Lab.Result run, int exit, String... phrases) {
        assertEquals(exit, run.exitCode(), run.toString());
        for (String phrase : phrases) assertTrue(run.stderr().contains(phrase), "missing \"" + phrase + "\" in\n" + run);
        assertTrue(run.stderr().startsWith("error: "), run.toString());
        assertEquals(2, run.stderr().lines().count(), "one cause line and one fix line:\n" + run);
        assertFalse(run.all().contains("at java.") || run.all().contains("Exception in thread"), run.toString());
        assertFalse(run.stdout().contains("echo:"), run.toString());
    }

    static String crt(Path certs) {
        return certs.resolve("server.crt").toString();
    }

    @Test void acceptsTheTrustedSelfSignedCertificateForLocalhostAnd127001() throws Exception {
        try (var server = TestTlsServer.serving(good)) {
            Lab.Result byName = client("localhost", "" + server.port, "--trust", crt(good), "--message", "hello", "--message", "TLS!");
            assertEquals(0, byName.exitCode(), byName.toString());
            assertTrue(byName.stdout().contains("echo: hello\necho: TLS!\n"), byName.toString());
            assertTrue(byName.stdout().contains("  SNI sent: localhost\n"), byName.toString());
            assertTrue(byName.stdout().contains("trusting 1 certificate from " + crt(good)), byName.toString());

            Lab.Result byAddress = client("127.0.0.1", "" + server.port, "--trust", crt(good), "--message", "hello");
            assertEquals(0, byAddress.exitCode(), byAddress.toString());
            assertTrue(byAddress.stdout().contains("  SNI sent: none (127.0.0.1 is an IP address)"), byAddress.toString());
            assertTrue(byAddress.stdout().contains("echo: hello"), byAddress.toString());
        }
    }

    @Test void printsTheCertificatesRealValues() throws Exception {
        try (var server = TestTlsServer.serving(good)) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", crt(good), "--message", "x");
            assertEquals(0, run.exitCode(), run.toString());
            String keytool = TestCerts.keytool(dir, "-printcert", "-file", crt(good)).stdout();
            Matcher sha = Pattern.compile("SHA256: ([0-9A-F:]+)").matcher(keytool);
            assertTrue(sha.find(), keytool);
            assertTrue(run.stdout().contains("  SHA-256 fingerprint: " + sha.group(1) + "\n"), run.toString());
            Peers.require("openssl", "openssl");
            String openssl = Lab.run(dir, Duration.ofSeconds(20), Map.of(), List.of("openssl", "x509", "-in", crt(good),
                    "-noout", "-fingerprint", "-sha256", "-serial")).stdout();
            assertTrue(openssl.contains("=" + sha.group(1)), "openssl and keytool agree: " + openssl);
            Matcher serial = Pattern.compile("serial=([0-9A-F]+)").matcher(openssl);
            assertTrue(serial.find(), openssl);
            assertTrue(run.stdout().contains("  Serial number: " + serial.group(1).replaceFirst("^0+(?=.)", "") + "\n"), run.toString());

            X509Certificate cert = TestCerts.read(good.resolve("server.crt"));
            for (String line : List.of("  Subject: CN=localhost\n", "  Issuer: CN=localhost (self-signed)\n",
                    "  Subject alternative names: DNS:localhost, IP:127.0.0.1, IP:0:0:0:0:0:0:0:1\n",
                    "  Not after: " + DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC)
                            .format(cert.getNotAfter().toInstant()) + " (36", "  Version: 3\n",
                    "  Public key: EC secp256r1 (256 bits)\n", "  Signature algorithm: SHA256withECDSA\n",
                    "Chain sent by the server (1 certificate, server first):\n  [0] CN=localhost (self-signed)\n",
                    "Session:\n  TLS version: TLSv1.3\n  Cipher suite: TLS_", "  Peer: localhost:" + server.port + " (127.0.0.1)\n")) {
                assertTrue(run.stdout().contains(line), "missing \"" + line + "\" in\n" + run);
            }
            assertFalse(client("localhost", "" + server.port, "--trust", crt(good), "--message", "x", "--quiet").stdout()
                    .contains("Subject"), "--quiet hides the certificate block");
        }
    }

    @Test void acceptsAChainWhenOnlyItsRootIsTrusted() throws Exception {
        try (var server = TestTlsServer.serving(chain)) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", chain.resolve("root.crt").toString(), "--message", "chained");
            assertEquals(0, run.exitCode(), run.toString());
            for (String line : List.of("  Issuer: CN=Test Intermediate CA\n", "Chain sent by the server (3 certificates",
                    "  [1] CN=Test Intermediate CA\n  [2] CN=Test Root CA (self-signed)\n", "  Key usage: digitalSignature\n",
                    "  Extended key usage: serverAuth\n", "echo: chained")) {
                assertTrue(run.stdout().contains(line), "missing \"" + line + "\" in\n" + run);
            }
        }
    }

    @Test void refusesAnUntrustedSelfSignedCertificate() throws Exception {
        try (var server = TestTlsServer.serving(good)) {
            X509Certificate cert = TestCerts.read(good.resolve("server.crt"));
            Lab.Result run = client("localhost", "" + server.port, "--trust", crt(other), "--message", "x");
            assertRefused(run, 4, "not trusted", "self-signed", TestCerts.fingerprint(cert), crt(other), "--trust");
        }
    }

    @Test void refusesACertificateSignedByAnUntrustedCa() throws Exception {
        try (var server = TestTlsServer.serving(chain)) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", crt(good), "--message", "x");
            assertRefused(run, 4, "not trusted", "issued by CN=Test Intermediate CA", "chain ending at CN=Test Root CA");
        }
    }

    @Test void refusesACertificateForAnotherName() throws Exception {
        try (var server = TestTlsServer.serving(otherName)) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", crt(otherName), "--message", "x");
            assertRefused(run, 5, "not valid for the name you dialled: localhost", "valid for: DNS:other.test");
        }
    }

    @Test void refusesExpiredAndNotYetValidCertificatesEvenWhenTrusted() throws Exception {
        try (var server = TestTlsServer.serving(expired)) {
            assertRefused(client("localhost", "" + server.port, "--trust", crt(expired), "--message", "x"), 6, "has expired", "certgen.sh");
        }
        try (var server = TestTlsServer.serving(future)) {
            assertRefused(client("localhost", "" + server.port, "--trust", crt(future), "--message", "x"), 6, "is not valid yet", "clock");
        }
    }

    /** PKIX leaves an expired certificate it does not need alone (an old cross-signed root): so does the client. */
    @Test void acceptsAChainThatAlsoSendsAnExpiredCertificateItDoesNotNeed() throws Exception {
        try (var server = new TestTlsServer(chain.resolve("cross.p12"), chain.resolve("server.pass"))) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", chain.resolve("root.crt").toString(),
                    "--message", "x");
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.stdout().contains("Chain sent by the server (3 certificates, server first):\n"
                    + "  [0] CN=localhost\n  [1] CN=Test Intermediate CA\n  [2] CN=Test Root CA\n"), run.toString());
            assertTrue(run.stdout().contains("echo: x\n"), run.toString());
        }
    }

    @Test void refusesAnExpiredIntermediateOfATrustedChainAsOutOfDate() throws Exception {
        try (var server = new TestTlsServer(chain.resolve("expired-ca.p12"), chain.resolve("server.pass"))) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", chain.resolve("root.crt").toString(),
                    "--message", "x");
            assertRefused(run, 6, "the certificate CN=Test Intermediate CA in the chain has expired");
        }
    }

    /** Someone else's expired certificate is first of all not trusted: remaking the student's own would not help. */
    @Test void anExpiredCertificateThatIsNotTrustedEitherIsNotTrusted() throws Exception {
        try (var server = TestTlsServer.serving(expired)) {
            Path known = dir.resolve("expired-untrusted/known.pem");
            Lab.Result run = client("localhost", "" + server.port, "--trust", crt(other), "--trust-new", "yes",
                    "--known-servers", known.toString(), "--message", "x");
            assertRefused(run, 4, "not trusted: the server's certificate CN=localhost (self-signed",
                    "cannot be trusted here anyway: it is out of date");
            assertFalse(run.stderr().contains("certgen") || run.stderr().contains("has expired"), run.toString());
            assertFalse(run.stdout().contains("Trusting it"), "never offered:\n" + run);
            assertFalse(Files.exists(known), "nothing stored");
        }
    }

    @Test void refusesATls10OnlyServer() throws Exception {
        // TLS 1.0 must be re-enabled for that server, and that setting is JVM-wide: so the server gets its own JVM.
        List<String> command = List.of("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                Lab.ROOT.resolve("tests/support/TestTlsServer.java").toString(),
                good.resolve("server.p12").toString(), good.resolve("server.pass").toString(), "TLSv1");
        try (var server = new Lab.Background(dir, Map.of(), command)) {
            String port = server.await("Listening on \\S+:(\\d+)", Duration.ofSeconds(30)).group(1);
            assertRefused(client("localhost", port, "--trust", crt(good), "--message", "x"), 7, "no TLS version in common", "--tls");
        }
    }

    /** In a JVM whose JSSE has started, --tls 1.0 cannot work: refused, not silently left out. */
    @Test void legacyVersionsAfterJsseStartedAreRefusedNotIgnored() throws Exception {
        javax.net.ssl.SSLContext.getDefault();   // JSSE has started: it has read its disabled list for good
        Lab.Result run = client("localhost", "9", "--tls", "1.0,1.2", "--trust", crt(good), "--message", "x");
        assertEquals(2, run.exitCode(), run.toString());
        assertEquals("error: --tls: this JDK does not offer TLS 1.0 here, even for this run (JSSE had already started, "
                + "or the JDK's security settings forbid it); leave them out of --tls\n"
                + "Try './jbang client.java --help'.\n", run.stderr());
    }

    @Test void explainsWhatIsNotATlsServerOrNotThere() throws Exception {
        try (var plain = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread talker = new Thread(() -> {
                try (var socket = plain.accept()) {
                    socket.getOutputStream().write("Welcome to the plain echo server\n".getBytes(StandardCharsets.UTF_8));
                    socket.getInputStream().read();
                } catch (IOException ignored) {
                    // The client hangs up once it sees this is not TLS.
                }
            });
            talker.start();
            assertRefused(client("localhost", "" + plain.getLocalPort(), "--trust", crt(good)), 7, "not speaking TLS");
            talker.join(10_000);
        }
        int closedPort = Peers.freePort();   // nothing listens there
        assertRefused(client("localhost", "" + closedPort, "--trust", crt(good)), 3, "connection refused", "./jbang server.java --port " + closedPort);
        assertRefused(client("no-such-host.invalid", "8443", "--trust", crt(good)), 3, "unknown host");
    }

    @Test void explainsTrustFileAndUsageProblems() throws Exception {
        assertRefused(client("--trust", dir.resolve("missing.crt").toString()), 9, "does not exist");
        Path empty = Files.createFile(dir.resolve("empty.crt"));
        assertRefused(client("--trust", empty.toString()), 9, "is empty");
        Path junk = Files.writeString(dir.resolve("junk.crt"), "not a certificate\n");
        assertRefused(client("--trust", junk.toString()), 9, "neither PEM certificates nor");
        // The server's private key file is never a client's trust file, with or without its password.
        assertRefused(client("--trust", good.resolve("server.p12").toString()), 9, "holds a private key", "server.crt");
        assertRefused(client("--trust", good.resolve("server.p12").toString(), "--trust-password-file",
                good.resolve("server.pass").toString()), 9, "holds a private key", "never");
        Path corrupt = Files.writeString(dir.resolve("corrupt-known.pem"), "# localhost:8443 SHA-256 AB added now\nnot PEM\n");
        assertRefused(client("--trust", crt(good), "--known-servers", corrupt.toString()), 9, "known-servers file");
        assertEquals(2, client("--tls", "1.9").exitCode());
        assertEquals(2, client("localhost", "99999").exitCode());
        assertEquals(2, client("--trust-new", "maybe").exitCode());
        assertEquals(2, client("Client.*").exitCode());
    }

    @Test void readsAPasswordProtectedPkcs12TrustStore() throws Exception {
        Path store = dir.resolve("truststore.p12");
        TestCerts.keytool(dir, "-importcert", "-noprompt", "-alias", "lab", "-file", crt(good), "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass:file", good.resolve("server.pass").toString());
        try (var server = TestTlsServer.serving(good)) {
            Lab.Result run = client("localhost", "" + server.port, "--trust", store.toString(), "--trust-password-file",
                    good.resolve("server.pass").toString(), "--message", "stored");
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.stdout().contains("echo: stored"), run.toString());
        }
    }

    @Test void reportsAWrongEchoAndALostConnection() throws Exception {
        try (var server = TestTlsServer.serving(good)) {
            server.reply = String::toUpperCase;
            Lab.Result mismatch = client("localhost", "" + server.port, "--trust", crt(good), "--message", "quiet please", "--quiet");
            assertEquals("echo: QUIET PLEASE\n", mismatch.stdout(), mismatch.toString());
            assertTrue(mismatch.stderr().contains("echo mismatch: sent \"quiet please\" but received \"QUIET PLEASE\""), mismatch.toString());
            assertEquals(8, mismatch.exitCode());

            server.reply = line -> null;
            assertRefused(client("localhost", "" + server.port, "--trust", crt(good), "--message", "hello?"), 8, "connection lost");
        }
    }

    @Test void pipedLinesAreEchoedWithoutPromptsAndQuitEndsTheSession() throws Exception {
        try (var server = TestTlsServer.serving(good)) {
            Lab.Result run = client("one\ntwo\nquit\nnever sent\n", false, "localhost", "" + server.port, "--trust", crt(good), "--quiet");
            assertEquals(0, run.exitCode(), run.toString());
            assertEquals("echo: one\necho: two\n", run.stdout());
            Lab.Result typed = client("typed\n", true, "localhost", "" + server.port, "--trust", crt(good), "--quiet");
            assertEquals(0, typed.exitCode(), typed.toString());
            assertTrue(typed.stdout().contains("> echo: typed\n> "), "a prompt on a terminal:\n" + typed);
        }
    }

    @Test void takesHostAndPortInOneArgument() throws Exception {
        try (var server = TestTlsServer.serving(good)) {
            Lab.Result joined = client("localhost:" + server.port, "--trust", crt(good), "--message", "one argument");
            assertEquals(0, joined.exitCode(), joined.toString());
            assertTrue(joined.stdout().contains("Connecting to localhost:" + server.port + " "), joined.toString());
            assertTrue(joined.stdout().contains("echo: one argument\n"), joined.toString());
            // The test server listens on 127.0.0.1 only: refused on ::1 shows the address and the port were both read.
            assertRefused(client("[::1]:" + server.port, "--trust", crt(good), "--message", "x"), 3,
                    "connection refused by [::1]:" + server.port + ":");
            Lab.Result twice = client("localhost:" + server.port, "" + server.port);
            assertEquals(2, twice.exitCode(), twice.toString());
            assertEquals("error: the port is given twice: write HOST:PORT or HOST PORT, not both\n"
                    + "Try './jbang client.java --help'.\n", twice.stderr());
        }
    }

    /** On a projector: at a 60-column terminal the error wraps at word boundaries; piped, it stays two lines. */
    @Test void longErrorLinesWrapAtTheTerminalsWidthAndStayWholeWhenPiped() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "needs script(1)");
        int port = Peers.freePort();   // nothing listens there
        List<String> command = Lab.withLauncher(Lab.ROOT.resolve("client.java").toString(), "localhost", "" + port,
                "--known-servers", dir.resolve("unused-known.pem").toString());
        Lab.Result piped = Lab.run(dir, Duration.ofSeconds(120), Map.of(), command);
        assertEquals(3, piped.exitCode(), piped.toString());
        List<String> errorLines = piped.stderr().lines().filter(line -> !line.startsWith("[jbang]")).toList();
        assertEquals(2, errorLines.size(), piped.toString());
        assertTrue(errorLines.get(1).length() > 60, "unwrapped when piped: " + piped);

        String atTerminal = "unset COLUMNS; stty cols 60; exec " + String.join(" ", command);
        Lab.Result tty = Lab.run(dir, Duration.ofSeconds(120), Map.of(), List.of("script", "-qefc", atTerminal, "/dev/null"));
        assertEquals(3, tty.exitCode(), tty.toString());
        String error = tty.stdout().replace("\r", "");
        error = error.substring(error.indexOf("error: "));
        for (String line : error.lines().toList()) assertTrue(line.length() <= 60, "longer than 60: " + line + "\n" + tty);
        assertTrue(error.lines().count() > 2, tty.toString());
        assertEquals(String.join(" ", errorLines).replaceAll("\\s+", " "), error.strip().replaceAll("\\s+", " "),
                "the same words, only wrapped");
    }
}
