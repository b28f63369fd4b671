import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our scripts against TLS implementations no one here wrote: OpenSSL, GnuTLS and Python's ssl module (itself OpenSSL,
 * but configured the way the lecture teaches). Every peer verifies the certificate certgen.sh made, with host-name
 * checking on, and every echo is compared byte for byte. Each check is paired with its failure: a peer given the
 * wrong CA file or a name the certificate does not carry must refuse, or the success would prove nothing.
 */
class InteropTest {
    /** A name certgen.sh never puts in a certificate (.invalid is reserved and never resolves: RFC 2606). */
    static final String NAME_NOT_IN_CERT = "elsewhere.invalid";
    static final Duration PEER_TIMEOUT = Duration.ofSeconds(20);
    static final Path PEERS = Lab.ROOT.resolve("tests/peers");

    /** Two independent certificate sets: "lab" is the one in use, "other" is a stranger with the same names. */
    static Path[] certificateSets(Path dir) throws IOException {
        return new Path[] {Lab.certs(Files.createDirectory(dir.resolve("lab"))),
                Lab.certs(Files.createDirectory(dir.resolve("other")))};
    }

    /** Our server, started once for all these clients, as a user would start it. */
    @Nested @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OurServerWithForeignClients {
        Path dir;
        Path labCa;
        Path otherCa;
        Peers.OurServer server;

        @BeforeAll void startServer(@TempDir Path dir) throws Exception {
            this.dir = dir;
            Path[] sets = certificateSets(dir);
            labCa = sets[0].resolve("server.crt");
            otherCa = sets[1].resolve("server.crt");
            server = new Peers.OurServer(dir, sets[0]);
        }

        @AfterAll void stopServer() {
            if (server != null) server.close();
        }

        // Non-ASCII on purpose: an echo that re-encodes text instead of copying bytes shows up here.
        byte[] line(String what) {
            return ("Grüße from " + what + " ✓ 1234567890\n").getBytes(StandardCharsets.UTF_8);
        }

        Lab.Result opensslClient(String version, Path caFile, String name, byte[] message, String... more)
                throws Exception {
            Peers.require("openssl", "openssl");
            // -brief: the connection summary goes to stderr and stdout carries only what the server sent back.
            List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-brief", version,
                    "-connect", "localhost:" + server.port, "-CAfile", caFile.toString(),
                    "-verify_hostname", name, "-verify_return_error"));
            command.addAll(List.of(more));
            return Peers.converse(dir, command, message, PEER_TIMEOUT);
        }

        /**
         * A client that comes back resumes its session: an abbreviated handshake, without the certificate and the
         * signature. In TLS 1.3 the server sends the session ticket just after the handshake, so the first client saves
         * its session only once the echo is back (the ticket travels before it); testssl 3.0 quits earlier, and its
         * resumption check then cannot run (see AuditTest).
         */
        void opensslClientResumesItsSession(String version, String protocol) throws Exception {
            Path session = Files.createTempFile(dir, "session", ".pem");
            byte[] first = line("openssl s_client " + version + " -sess_out");
            Lab.Result c = opensslClient(version, labCa, "localhost", first, "-sess_out", session.toString());
            assertEquals(0, c.exitCode(), c::toString);
            assertArrayEquals(first, c.stdoutBytes(), c::toString);
            assertTrue(Files.size(session) > 0, "no session saved:\n" + c);

            byte[] again = line("openssl s_client " + version + " -sess_in");
            // Without -brief: only the full report says "Reused" (and stdout then holds the report and the echo).
            List<String> command = List.of("openssl", "s_client", version, "-connect", "localhost:" + server.port,
                    "-CAfile", labCa.toString(), "-verify_hostname", "localhost", "-verify_return_error",
                    "-sess_in", session.toString());
            c = Peers.converse(dir, command, again, PEER_TIMEOUT);
            assertEquals(0, c.exitCode(), c::toString);
            assertTrue(c.stdout().contains("\nReused, " + protocol + ","),
                    c::toString);
            assertTrue(c.stdout().contains(new String(again, StandardCharsets.UTF_8)), c::toString);
        }

        @Test void opensslClientResumesItsSessionTls12() throws Exception {
            opensslClientResumesItsSession("-tls1_2", "TLSv1.2");
        }

        @Test void opensslClientResumesItsSessionTls13() throws Exception {
            opensslClientResumesItsSession("-tls1_3", "TLSv1.3");
        }

        void opensslClientEchoesVerified(String version, String protocol) throws Exception {
            byte[] message = line("openssl s_client " + version);
            Lab.Result c = opensslClient(version, labCa, "localhost", message);
            assertEquals(0, c.exitCode(), c::toString);
            assertArrayEquals(message, c.stdoutBytes(), c::toString);
            assertTrue(c.stderr().contains("Protocol version: " + protocol), c::toString);
            assertTrue(c.stderr().contains("Verification: OK"), c::toString);
        }

        @Test void opensslClientTls12() throws Exception {
            opensslClientEchoesVerified("-tls1_2", "TLSv1.2");
        }

        @Test void opensslClientTls13() throws Exception {
            opensslClientEchoesVerified("-tls1_3", "TLSv1.3");
        }

        @Test void opensslClientRefusesOtherCa() throws Exception {
            Lab.Result c = opensslClient("-tls1_3", otherCa, "localhost", line("nobody"));
            assertNotEquals(0, c.exitCode(), c::toString);
            assertEquals(0, c.stdoutBytes().length, c::toString);
            assertTrue(c.stderr().contains("self-signed certificate"), c::toString);
        }

        @Test void opensslClientRefusesWrongName() throws Exception {
            Lab.Result c = opensslClient("-tls1_2", labCa, NAME_NOT_IN_CERT, line("nobody"));
            assertNotEquals(0, c.exitCode(), c::toString);
            assertEquals(0, c.stdoutBytes().length, c::toString);
            assertTrue(c.stderr().contains("hostname mismatch"), c::toString);
        }

        /** gnutls-cli verifies the host name it connects to, unless told another with --verify-hostname. */
        Lab.Result gnutlsClient(Path caFile, String name, byte[] message, Path log) throws Exception {
            Peers.require("gnutls-cli", "gnutls-bin");
            List<String> command = new ArrayList<>(List.of("gnutls-cli", "--logfile", log.toString(),
                    "--x509cafile", caFile.toString(), "--port", String.valueOf(server.port), "localhost"));
            if (!name.equals("localhost")) command.add(1, "--verify-hostname=" + name);
            return Peers.converse(dir, command, message, PEER_TIMEOUT);
        }

        @Test void gnutlsClient() throws Exception {
            byte[] message = line("gnutls-cli");
            Path log = dir.resolve("gnutls-ok.log");
            Lab.Result c = gnutlsClient(labCa, "localhost", message, log);
            String details = c + "\n--- log:\n" + Files.readString(log);
            assertEquals(0, c.exitCode(), details);
            assertArrayEquals(message, c.stdoutBytes(), details);
            assertTrue(details.contains("The certificate is trusted."), details);
        }

        @Test void gnutlsClientRefusesOtherCa() throws Exception {
            Path log = dir.resolve("gnutls-other-ca.log");
            Lab.Result c = gnutlsClient(otherCa, "localhost", line("nobody"), log);
            String details = c + "\n--- log:\n" + Files.readString(log);
            assertNotEquals(0, c.exitCode(), details);
            assertEquals(0, c.stdoutBytes().length, details);
            assertTrue(details.contains("The certificate is NOT trusted"), details);
        }

        @Test void gnutlsClientRefusesWrongName() throws Exception {
            Path log = dir.resolve("gnutls-wrong-name.log");
            Lab.Result c = gnutlsClient(labCa, NAME_NOT_IN_CERT, line("nobody"), log);
            String details = c + "\n--- log:\n" + Files.readString(log);
            assertNotEquals(0, c.exitCode(), details);
            assertEquals(0, c.stdoutBytes().length, details);
            assertTrue(details.contains("The name in the certificate does not match"), details);
        }

        Lab.Result pythonClient(Path caFile, String message, String... extra) {
            Peers.require("python3", "python3");
            // The message goes in on stdin and becomes the script's MESSAGE argument there: this JVM encodes a child's
            // arguments in its locale's charset, which under LANG=C on JDK 17 turns non-ASCII text into '?'.
            String script = PEERS.resolve("lecture_client.py").toString();
            List<String> command = new ArrayList<>(List.of("python3", "-c",
                    "import runpy, sys; sys.argv = sys.argv[1:5] + [sys.stdin.read()] + sys.argv[5:];"
                            + " runpy.run_path(sys.argv[0], run_name='__main__')",
                    script, "localhost", String.valueOf(server.port), caFile.toString()));
            command.addAll(List.of(extra));
            return Lab.run(dir, PEER_TIMEOUT, Map.of("PYTHONIOENCODING", "utf-8"), command,
                    message.getBytes(StandardCharsets.UTF_8));
        }

        @Test void pythonLectureClient() {
            String message = new String(line("the lecture's Python client"), StandardCharsets.UTF_8).strip();
            Lab.Result r = pythonClient(labCa, message);
            // The client compares the echo with what it sent, byte for byte, and exits 8 if they differ.
            assertEquals(0, r.exitCode(), r::toString);
            assertTrue(r.stdout().contains("Echo: " + message), r::toString);
            assertTrue(r.stdout().contains("Subject: {'commonName': 'localhost'}"), r::toString);
            assertTrue(r.stdout().contains("DNS:localhost"), r::toString);
        }

        @Test void pythonLectureClientRefusesOtherCa() {
            Lab.Result r = pythonClient(otherCa, "nobody");
            assertEquals(4, r.exitCode(), r::toString);
            assertTrue(r.stderr().contains("self-signed certificate"), r::toString);
            assertFalse(r.stdout().contains("Echo:"), r::toString);
        }

        @Test void pythonLectureClientRefusesWrongName() {
            Lab.Result r = pythonClient(labCa, "nobody", "--name", NAME_NOT_IN_CERT);
            assertEquals(4, r.exitCode(), r::toString);
            assertTrue(r.stderr().contains("Hostname mismatch"), r::toString);
            assertFalse(r.stdout().contains("Echo:"), r::toString);
        }
    }

    /** Our client against servers we did not write, each presenting the lab certificate or a stranger's. */
    @Nested @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class OurClientWithForeignServers {
        static final String MESSAGE = "Hello from our client to a foreign server, 42!";

        Path dir;
        Path lab;
        Path other;
        String labFingerprint;

        @BeforeAll void makeCertificatesAndCompileClient(@TempDir Path dir) throws Exception {
            this.dir = dir;
            Path[] sets = certificateSets(dir);
            lab = sets[0];
            other = sets[1];
            labFingerprint = TestCerts.fingerprint(TestCerts.read(lab.resolve("server.crt")));
            // Compiled (and its dependencies fetched) now, so no test pays for it and the run inside a network
            // namespace, which has no route to any repository, finds it ready.
            Lab.Result r = Lab.jbang(dir, Duration.ofMinutes(3), "build", Lab.ROOT.resolve("client.java").toString());
            if (r.exitCode() != 0) throw new AssertionError("client.java does not build:\n" + r);
        }

        /** Our client as a user runs it, trusting only the lab certificate, with no stored certificates to fall back on. */
        List<String> ourClient(int port) {
            return Lab.withLauncher(Lab.ROOT.resolve("client.java").toString(), "localhost", String.valueOf(port),
                    "--trust", lab.resolve("server.crt").toString(),
                    "--known-servers", dir.resolve("known_servers.pem").toString(), "--trust-new", "no",
                    "--message", MESSAGE);
        }

        void assertVerifiedAndEchoed(Lab.Result r) {
            assertEquals(0, r.exitCode(), r::toString);
            assertTrue(r.stdout().contains("SHA-256 fingerprint: " + labFingerprint), r::toString);
            // Exit 0 also means the client found the echo identical to what it sent (else exit 8).
            assertTrue(r.stdout().lines().anyMatch(l -> l.contains(MESSAGE)), r::toString);
        }

        void assertRefused(Lab.Result r) {
            assertEquals(4, r.exitCode(), r::toString);
            assertFalse(r.stdout().contains(MESSAGE), r::toString);
        }

        @Test void opensslServer() throws Exception {
            try (var server = new OpensslEchoServer(lab, dir)) {
                assertVerifiedAndEchoed(Lab.run(dir, PEER_TIMEOUT, Map.of(), ourClient(server.port)));
            }
        }

        @Test void opensslServerWithUntrustedCertificate() throws Exception {
            try (var server = new OpensslEchoServer(other, dir)) {
                assertRefused(Lab.run(dir, PEER_TIMEOUT, Map.of(), ourClient(server.port)));
            }
        }

        /**
         * gnutls-serv has no option to choose its listening address: it binds every interface. So it runs with our
         * client inside a private network namespace whose only interface is loopback (tests/peers/private_loopback.py),
         * where nothing outside this machine can reach it, and the port is ours alone.
         */
        Lab.Result withGnutlsServer(Path certs) throws Exception {
            Peers.require("gnutls-serv", "gnutls-bin");
            Peers.require("python3", "python3");
            Peers.require("unshare", "util-linux");
            Lab.Result probe = Lab.run(dir, PEER_TIMEOUT, Map.of(), List.of("unshare", "--user", "--map-root-user", "--net", "true"));
            assumeTrue(probe.exitCode() == 0, () -> "cannot make a private network namespace here, so gnutls-serv"
                    + " (which listens on every interface) was not started:\n" + probe);
            int port = 5556;
            List<String> command = new ArrayList<>(List.of("unshare", "--user", "--map-root-user", "--net",
                    "python3", PEERS.resolve("private_loopback.py").toString(), String.valueOf(port),
                    "gnutls-serv", "--echo", "--port", String.valueOf(port),
                    "--x509certfile", certs.resolve("server.crt").toString(),
                    "--x509keyfile", Peers.gnutlsKey(certs).toString(), "--"));
            command.addAll(ourClient(port));
            return Lab.run(dir, PEER_TIMEOUT, Map.of(), command);
        }

        @Test void gnutlsServer() throws Exception {
            assertVerifiedAndEchoed(withGnutlsServer(lab));
        }

        @Test void gnutlsServerWithUntrustedCertificate() throws Exception {
            assertRefused(withGnutlsServer(other));
        }

        Lab.Background pythonServer(Path certs) throws Exception {
            Peers.require("python3", "python3");
            return new Lab.Background(dir, Map.of(), List.of("python3", PEERS.resolve("lecture_server.py").toString(),
                    certs.resolve("server.crt").toString(), Peers.exportKey(certs).toString()));
        }

        @Test void pythonLectureServer() throws Exception {
            try (var server = pythonServer(lab)) {
                String port = server.await("Listening on \\S+:(\\d+)", PEER_TIMEOUT).group(1);
                assertVerifiedAndEchoed(Lab.run(dir, PEER_TIMEOUT, Map.of(), ourClient(Integer.parseInt(port))));
            }
        }

        @Test void pythonLectureServerWithUntrustedCertificate() throws Exception {
            try (var server = pythonServer(other)) {
                String port = server.await("Listening on \\S+:(\\d+)", PEER_TIMEOUT).group(1);
                assertRefused(Lab.run(dir, PEER_TIMEOUT, Map.of(), ourClient(Integer.parseInt(port))));
            }
        }
    }

    /**
     * openssl s_server has no echo mode (-rev reverses lines, which our client rightly calls an echo mismatch). In
     * its plain mode it prints what the client sends on stdout, with -quiet nothing else, and sends what it reads on
     * stdin: this pipes the one into the other, which makes an echo server out of OpenSSL's own TLS stack.
     */
    static final class OpensslEchoServer implements AutoCloseable {
        final Process process;
        final int port;
        private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

        OpensslEchoServer(Path certs, Path dir) throws Exception {
            Peers.require("openssl", "openssl");
            // -quiet prints no "ACCEPT host:port" line to learn the port from: pick a free one.
            port = Peers.freePort();
            process = Lab.start(dir, Map.of(), List.of("openssl", "s_server", "-quiet",
                    "-accept", "127.0.0.1:" + port, "-cert", certs.resolve("server.crt").toString(),
                    "-key", Peers.exportKey(certs).toString()));
            pump(process.getInputStream(), process.getOutputStream());
            pump(process.getErrorStream(), stderr);
            try {
                Peers.awaitListening(port, process, PEER_TIMEOUT);
            } catch (Throwable e) {
                close();
                throw new AssertionError("openssl s_server did not start: " + stderr, e);
            }
        }

        private static void pump(InputStream from, OutputStream to) {
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (from) {
                    for (int n; (n = from.read(buffer)) > 0; ) {
                        synchronized (to) {
                            to.write(buffer, 0, n);
                            to.flush();
                        }
                    }
                } catch (IOException stopped) {
                    // The server was stopped.
                }
            }, "openssl s_server echo");
            thread.setDaemon(true);
            thread.start();
        }

        @Override public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }
}
