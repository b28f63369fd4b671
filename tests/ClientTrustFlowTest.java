import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lecture's browser flow: an untrusted certificate is shown, accepted, stored, and the SAME run connects again with
 * full checks; later runs trust it silently; a changed one is refused. Also the client run as a student runs it.
 */
class ClientTrustFlowTest {
    @TempDir static Path dir;
    static Path lab, other, wrongName;

    @BeforeAll static void certificates() throws Exception {
        var pool = Executors.newFixedThreadPool(3);
        try {
            var labCerts = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("lab"))));
            var otherCerts = pool.submit(() -> Lab.certs(Files.createDirectories(dir.resolve("other"))));
            var wrongNameCerts = pool.submit(() -> TestCerts.selfSigned(dir.resolve("wrongname"), "other.test", "dns:other.test"));
            lab = labCerts.get();
            other = otherCerts.get();
            wrongName = wrongNameCerts.get();
        } finally {
            pool.shutdown();
        }
    }

    static ClientTest.Run client(String stdin, boolean interactive, String... args) {
        return ClientTest.client(stdin, interactive, args);
    }

    /** Trust sources the lab server's certificate is NOT in: the JDK's cacerts would do too, but this is explicit. */
    static String unrelated() {
        return other.resolve("server.crt").toString();
    }

    @Test void yesStoresTheCertificateAndTheSameRunConnectsThenLaterRunsTrustItSilently() throws Exception {
        Path known = dir.resolve("flow/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            X509Certificate cert = TestCerts.read(lab.resolve("server.crt"));
            String fingerprint = TestCerts.fingerprint(cert);
            ClientTest.Run first = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "yes", "--message", "first");
            assertEquals(0, first.exit(), first.toString());
            assertTrue(first.out().contains("The server's certificate is not trusted"), first.toString());
            assertTrue(first.out().contains("  SHA-256 fingerprint: " + fingerprint + "\n"), first.toString());
            assertTrue(first.out().contains("Stored it in " + known), first.toString());
            assertTrue(first.out().contains("echo: first"), first.toString());
            assertTrue(first.err().isEmpty(), first.toString());

            String stored = Files.readString(known);
            assertTrue(stored.startsWith("# localhost:" + server.port + " SHA-256 " + fingerprint + " added "), stored);
            assertEquals(cert, TestCerts.read(known));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(known)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(known.getParent())));

            ClientTest.Run later = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "no", "--message", "later");
            assertEquals(0, later.exit(), later.toString());
            assertFalse(later.out().contains("not trusted"), later.toString());
            assertTrue(later.out().contains("plus the certificate stored for localhost:" + server.port), later.toString());
            assertTrue(later.out().contains("echo: later"), later.toString());
        }
    }

    @Test void askOnATerminalTakesTheAnswerFromTheUser() throws Exception {
        Path known = dir.resolve("ask/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            ClientTest.Run declined = client("n\n", true, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString());
            assertTrue(declined.out().contains("Compare this fingerprint"), declined.toString());
            assertTrue(declined.out().contains("Trust this certificate? [y/N] Not trusted."), declined.toString());
            ClientTest.assertRefused(declined, 4, "not trusted");
            assertFalse(Files.exists(known), "nothing stored after no");

            ClientTest.Run accepted = client("y\nhello\n", true, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString());
            assertEquals(0, accepted.exit(), accepted.toString());
            assertTrue(accepted.out().contains("> echo: hello\n"), accepted.toString());
        }
    }

    @Test void noFailsCleanlyAndStoresNothing() throws Exception {
        Path known = dir.resolve("no/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            ClientTest.Run run = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "no", "--message", "x");
            ClientTest.assertRefused(run, 4, "not trusted", "self-signed", "--trust-new ask");
            assertFalse(run.out().contains("Trust this certificate"), run.toString());
            assertFalse(Files.exists(known));
        }
    }

    /**
     * The lecturer renewed the certificate: a student who stored the old one is refused loudly (CHANGED) without
     * --trust, and connects, with a note, when --trust names the new server.crt: the trust asked for wins.
     */
    @Test void aChangedCertificateIsRefusedLoudlyUnlessTrustNamesTheNewOne() throws Exception {
        Path known = dir.resolve("changed/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            // As if the user had accepted the server's previous certificate at the prompt last week.
            Files.createDirectories(known.getParent());
            Files.writeString(known, "# localhost:" + server.port + " SHA-256 (as stored earlier) added 2026-01-01T00:00:00Z\n"
                    + Files.readString(other.resolve("server.crt")));

            ClientTest.Run refused = client("", false, "localhost", "" + server.port, "--known-servers", known.toString(),
                    "--trust-new", "yes", "--message", "x");
            ClientTest.assertRefused(refused, 4, "has CHANGED", "man-in-the-middle",
                    "./jbang client.java --forget localhost:" + server.port + " --known-servers " + known);

            ClientTest.Run vouched = client("", false, "localhost", "" + server.port, "--trust", lab.resolve("server.crt").toString(),
                    "--known-servers", known.toString(), "--message", "renewed");
            assertEquals(0, vouched.exit(), vouched.toString());
            assertTrue(vouched.out().contains("echo: renewed\n"), vouched.toString());
            assertEquals("note: --trust verified this certificate, but a different one is stored for localhost:" + server.port
                    + " in " + known + "; drop it with: ./jbang client.java --forget localhost:" + server.port
                    + " --known-servers " + known + "\n", vouched.err());

            // A --trust that does not verify the server is "not trusted", as without a stored certificate.
            ClientTest.Run wrongTrust = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "no", "--message", "x");
            ClientTest.assertRefused(wrongTrust, 4, "not trusted", "plus the certificate stored for localhost:" + server.port,
                    "the certificate stored for this server is a DIFFERENT one");
        }
    }

    /** --forget removes the one entry (the file stays owner-only and whole), and the next connection asks again. */
    @Test void forgetRemovesTheStoredCertificateAndTheNextConnectionAsksAgain() throws Exception {
        Path known = dir.resolve("forget/known_servers.pem");
        try (var server = TestTlsServer.serving(lab); var second = TestTlsServer.serving(lab)) {
            for (int port : new int[] {server.port, second.port}) {
                assertEquals(0, client("", false, "localhost", "" + port, "--trust", unrelated(), "--known-servers",
                        known.toString(), "--trust-new", "yes", "--message", "x").exit());
            }
            String fingerprint = TestCerts.fingerprint(TestCerts.read(lab.resolve("server.crt")));
            ClientTest.Run forgot = client("", false, "--forget", "localhost:" + server.port, "--known-servers", known.toString());
            assertEquals(0, forgot.exit(), forgot.toString());
            assertTrue(forgot.out().matches("Forgot localhost:" + server.port + " \\(SHA-256 " + fingerprint
                    + " added \\S+\\) from " + java.util.regex.Pattern.quote(known.toString()) + "\\.\n"), forgot.toString());
            String left = Files.readString(known);
            assertFalse(left.contains("# localhost:" + server.port + " "), left);
            assertTrue(left.startsWith("# localhost:" + second.port + " SHA-256 " + fingerprint), left);
            assertEquals(TestCerts.read(lab.resolve("server.crt")), TestCerts.read(known), "the other entry is whole");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(known)));
            try (var files = Files.list(known.getParent())) {
                assertEquals(List.of(known), files.toList(), "no temporary file left beside it");
            }

            ClientTest.Run again = client("n\n", true, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString());
            assertTrue(again.out().contains("Trust this certificate? [y/N] Not trusted."), again.toString());
            ClientTest.Run nothing = client("", false, "--forget", "localhost:" + server.port, "--known-servers", known.toString());
            assertEquals(0, nothing.exit(), nothing.toString());
            assertEquals("Nothing is stored for localhost:" + server.port + " in " + known + " (it holds: localhost:"
                    + second.port + ").\n", nothing.out());
        }
    }

    @Test void aCertificateForAnotherNameOrOutOfDateIsNeverOffered() throws Exception {
        Path known = dir.resolve("never/known_servers.pem");
        try (var server = TestTlsServer.serving(wrongName)) {
            ClientTest.Run run = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "yes", "--message", "x");
            ClientTest.assertRefused(run, 4, "not trusted", "cannot be trusted here anyway", "localhost");
            assertFalse(Files.exists(known));
        }
    }

    /** The student's way: ./jbang client.java in a folder where ./certgen.sh made certs/, lines piped in. */
    @Test void runsAsAScriptWithTheLabCertificateByDefault() throws Exception {
        Path student = Files.createDirectories(dir.resolve("student"));
        Lab.certs(student);
        try (var server = TestTlsServer.serving(student.resolve("certs"))) {
            Lab.Result result = Lab.run(student, Duration.ofSeconds(120), Map.of(),
                    Lab.withLauncher(Lab.ROOT.resolve("client.java").toString(), "localhost", "" + server.port,
                            "--known-servers", student.resolve("known.pem").toString()),
                    "hello\nworld\n".getBytes());
            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.stdout().contains("trusting 1 certificate from certs/server.crt (the lab's default)"), result.toString());
            assertTrue(result.stdout().contains("echo: hello\necho: world\n"), result.toString());
            assertFalse(result.stdout().contains("> "), "no prompt when stdin is piped:\n" + result);
        }
    }

    /** openssl s_server with a certificate for another name: the host-name check refuses it, trusted or not. */
    @Test void refusesOpensslServerWithACertificateForAnotherName() throws Exception {
        Path key = dir.resolve("openssl.key"), cert = dir.resolve("openssl.crt");
        Lab.Result made = Lab.run(dir, Duration.ofSeconds(30), Map.of(), List.of("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "1", "-subj", "/CN=other.test", "-addext", "subjectAltName=DNS:other.test"));
        assertEquals(0, made.exitCode(), made.toString());
        int port;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        try (var server = new Lab.Background(dir, Map.of(), List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port,
                "-cert", cert.toString(), "-key", key.toString(), "-rev"))) {
            server.await("ACCEPT", Duration.ofSeconds(20));
            ClientTest.Run run = client("", false, "localhost", "" + port, "--trust", cert.toString(),
                    "--known-servers", dir.resolve("openssl-known.pem").toString(), "--message", "x");
            ClientTest.assertRefused(run, 5, "not valid for the name you dialled: localhost", "DNS:other.test");
        }
    }

    /** Against the team's own server, both as students run them: ./jbang server.java --port 0, then the client. */
    @Test void talksToTheLabServer() throws Exception {
        Assumptions.assumeFalse(Files.readString(Lab.ROOT.resolve("server.java")).contains("Placeholder being written"),
                "server.java is still a placeholder");
        Path student = Files.createDirectories(dir.resolve("with-server"));
        Lab.certs(student);
        try (var server = new Lab.Background(student, Map.of(), Lab.withLauncher(Lab.ROOT.resolve("server.java").toString(), "--port", "0"))) {
            String port = server.await("Listening on \\S+:(\\d+)", Duration.ofSeconds(120)).group(1);
            String fingerprint = server.await("SHA-256 fingerprint: ([0-9A-F:]+)", Duration.ofSeconds(10)).group(1);
            Lab.Result result = Lab.run(student, Duration.ofSeconds(120), Map.of(),
                    Lab.withLauncher(Lab.ROOT.resolve("client.java").toString(), "localhost", port,
                            "--known-servers", student.resolve("known.pem").toString(), "--message", "hello lab"));
            assertEquals(0, result.exitCode(), result + "\n--- server:\n" + server.transcript());
            assertTrue(result.stdout().contains("  SHA-256 fingerprint: " + fingerprint + "\n"), result.toString());
            assertTrue(result.stdout().contains("echo: hello lab\n"), result.toString());
        }
    }
}
