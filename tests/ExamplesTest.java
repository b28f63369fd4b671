import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
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
    /** TestCerts.chain folders: a server certificate issued by a test CA, valid now, expired, and not yet valid. */
    static Path caIssued, caIssuedExpired, caIssuedFuture;
    /** The example server, run with java from the lab folder, shared by the client tests. */
    static ExampleServer server;
    static int port;

    @BeforeAll static void certificatesAndServer() throws Exception {
        var pool = Executors.newFixedThreadPool(3);   // each keytool run is a JVM start: three at a time
        try {
            var labCerts = pool.submit(() -> certsIn("lab"));
            var otherCerts = pool.submit(() -> certsIn("other"));
            var expiredCerts = pool.submit(() -> certsIn("expired", "--start", "-30d", "--days", "1"));
            var futureCerts = pool.submit(() -> certsIn("future", "--start", "+10d"));
            var otherNameCerts = pool.submit(() -> TestCerts.selfSigned(dir.resolve("othername"), "other.test", "dns:other.test"));
            var caCerts = pool.submit(() -> TestCerts.chain(dir.resolve("ca-issued")));
            var caExpiredCerts = pool.submit(() -> TestCerts.chain(dir.resolve("ca-issued-expired"),
                    "-startdate", "-30d", "-validity", "1"));
            var caFutureCerts = pool.submit(() -> TestCerts.chain(dir.resolve("ca-issued-future"),
                    "-startdate", "+10d", "-validity", "30"));
            lab = labCerts.get();
            other = otherCerts.get();
            expired = expiredCerts.get();
            future = futureCerts.get();
            otherName = otherNameCerts.get();
            caIssued = caCerts.get();
            caIssuedExpired = caExpiredCerts.get();
            caIssuedFuture = caFutureCerts.get();
        } finally {
            pool.shutdown();
        }
        server = startServer(java("TlsEchoServer", "0"));
        port = server.port();
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

    /** An example server's process and output, and the port its banner named. */
    record ExampleServer(Lab.Background output, int port) implements AutoCloseable {
        @Override public void close() {
            output.close();
        }
    }

    /** Starts the example server (given port 0) in the lab folder, where certs/ is, and waits for its banner. */
    static ExampleServer startServer(List<String> command) throws Exception {
        var started = new Lab.Background(lab, Map.of(), command);
        String bound = started.await("^Listening on 127\\.0\\.0\\.1:(\\d+) \\(TLS\\)$", JBANG_RUN).group(1);
        assertNotEquals("0", bound, "the banner shows the port the system picked, not the 0 asked for");
        return new ExampleServer(started, Integer.parseInt(bound));
    }

    static Lab.Result run(Path in, Duration timeout, List<String> command, String stdin) {
        return Lab.run(in, timeout, Map.of(), command, stdin.getBytes(StandardCharsets.UTF_8));
    }

    /** Waits for a line holding text, anywhere in the server's output (it logs each connection's thread). */
    static void awaitOutput(ExampleServer server, String text, Duration timeout) throws InterruptedException {
        server.output().awaitAnywhere(Pattern.quote(text), timeout);
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
        assertFalse(server.output().transcript().contains(password), "the server never prints its password");
    }

    @Test void serverAndClientRunWithJbang() throws Exception {
        try (var jbangServer = startServer(jbang("TlsEchoServer", "0"))) {
            int jbangPort = jbangServer.port();
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
        try (var ownServer = startServer(java("TlsEchoServer", "0"));
             Socket silent = new Socket(InetAddress.getLoopbackAddress(), ownServer.port());
             Socket plaintext = new Socket(InetAddress.getLoopbackAddress(), ownServer.port())) {
            int ownPort = ownServer.port();
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
            assertTrue(ownServer.output().process.isAlive(), ownServer.output()::transcript);
            assertNoStackTrace(ownServer.output().transcript());
        }
    }

    @Test void serverStartupProblemsAreOneLineAndExitNonZero() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-certs-here"));
        Lab.Result noCerts = run(empty, JAVA_RUN, java("TlsEchoServer", "0"), "");
        assertStartupFailure(noCerts, "./certgen.sh");

        Path wrong = Files.createDirectories(dir.resolve("wrong-password/certs"));
        Files.copy(lab.resolve("certs/server.p12"), wrong.resolve("server.p12"));
        Files.writeString(wrong.resolve("server.pass"), "not-the-password\n");
        Lab.Result wrongPassword = run(wrong.getParent(), JAVA_RUN, java("TlsEchoServer", "0"), "");
        assertStartupFailure(wrongPassword, "certs/server.p12", "./certgen.sh --force");
        assertFalse(wrongPassword.all().contains("not-the-password"), wrongPassword::toString);

        try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Lab.Result portInUse = run(lab, JAVA_RUN, java("TlsEchoServer", "" + taken.getLocalPort()), "");
            assertStartupFailure(portInUse, "port " + taken.getLocalPort(), "PORT");
        }
    }

    @Test void serverTypingMistakesAreTheProblemAndTheUsageWithExitStatus2() {
        for (List<String> args : List.of(List.of("abc"), List.of("70000"), List.of("-1"), List.of("8443", "extra"))) {
            Lab.Result result = run(lab, JAVA_RUN, java("TlsEchoServer", args.toArray(String[]::new)), "");
            assertUsageError(result, "TlsEchoServer: " + (args.size() > 1 ? "too many arguments"
                    : args.get(0) + " is not a port number (0 to 65535)"), "usage: java examples/TlsEchoServer.java [PORT]");
        }
    }

    static void assertUsageError(Lab.Result result, String problem, String usage) {
        assertEquals(2, result.exitCode(), result::toString);
        assertEquals(problem + "\n" + usage + "\n", result.stderr(), result::toString);
        assertEquals("", result.stdout(), result::toString);
    }

    @Test void serverServesARealClientWhileMoreSilentClientsThanItsThreadsWait() throws Exception {
        try (var ownServer = startServer(java("TlsEchoServer", "0"))) {
            int ownPort = ownServer.port();
            long pid = ownServer.output().process.pid();
            int threadsBefore = threads(pid);
            List<Socket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) silent.add(new Socket(InetAddress.getLoopbackAddress(), ownPort));
                // Every connection has been accepted (the 101st is served below); the pool holds 64 of them.
                try (var real = (SSLSocket) trustingLab().getSocketFactory().createSocket(
                        InetAddress.getLoopbackAddress(), ownPort)) {
                    var parameters = real.getSSLParameters();
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");   // 127.0.0.1 is one of the lab's names
                    real.setSSLParameters(parameters);
                    real.setSoTimeout(40_000);   // it waits in line until the handshake limit frees a thread (10 s)
                    long start = System.nanoTime();
                    real.getOutputStream().write("served after all\n".getBytes(StandardCharsets.UTF_8));
                    byte[] echo = real.getInputStream().readNBytes("served after all\n".length());
                    assertEquals("served after all\n", new String(echo, StandardCharsets.UTF_8));
                    long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                    assertTrue(waited < 30, "served after " + waited + " s");
                    int threadsWhileFull = threads(pid);
                    assertTrue(threadsWhileFull - threadsBefore <= 64 + 2, "from " + threadsBefore + " to "
                            + threadsWhileFull + " threads for 101 connections: the pool is not bounded");
                }
                awaitOutput(ownServer, "handshake failed: no TLS handshake within 10 s", Duration.ofSeconds(30));
            } finally {
                for (Socket socket : silent) socket.close();
            }
            assertTrue(ownServer.output().process.isAlive(), ownServer.output()::transcript);
            assertNoStackTrace(ownServer.output().transcript());
        }
    }

    /** The number of threads of a process, as Linux counts them. */
    static int threads(long pid) throws IOException {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return (int) tasks.count();
        }
    }

    /** A client context of the test's own that trusts exactly the lab's certificate. */
    static SSLContext trustingLab() throws Exception {
        var store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("lab", certificate(lab));
        var trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    @Test void serverLogsAFailedAcceptAndGoesOn() throws Exception {
        Peers.require("prlimit", "util-linux");
        try (var ownServer = startServer(java("TlsEchoServer", "0"))) {
            int ownPort = ownServer.port();
            long pid = ownServer.output().process.pid();
            long open;
            try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                open = fds.count();
            }
            // A soft limit of a few more descriptors than it has: accept() soon fails with "too many open files".
            String hard = Lab.run(dir, JAVA_RUN, Map.of(), List.of("prlimit", "--pid", "" + pid, "--nofile",
                    "--noheadings", "--output", "HARD")).stdout().strip();
            setOpenFileLimit(pid, (open + 3) + ":" + hard);
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) clients.add(new Socket(InetAddress.getLoopbackAddress(), ownPort));
                awaitOutput(ownServer, "cannot accept a connection (", Duration.ofSeconds(20));
            } finally {
                for (Socket socket : clients) socket.close();
            }
            setOpenFileLimit(pid, hard + ":" + hard);
            Lab.Result client = run(lab, JAVA_RUN, java("TlsEchoClient", "localhost", "" + ownPort), "after the storm\n");
            assertEquals(0, client.exitCode(), client::toString);
            assertTrue(client.stdout().contains("echo: after the storm\n"), client::toString);
            assertTrue(ownServer.output().process.isAlive(), ownServer.output()::transcript);
            assertTrue(ownServer.output().transcript().lines().filter(line -> line.startsWith("cannot accept"))
                    .allMatch(line -> line.endsWith("): trying again in 1 s")), ownServer.output()::transcript);
            assertNoStackTrace(ownServer.output().transcript());
        }
    }

    static void setOpenFileLimit(long pid, String softColonHard) {
        Lab.Result set = Lab.run(dir, JAVA_RUN, Map.of(), List.of("prlimit", "--pid", "" + pid,
                "--nofile=" + softColonHard));
        assertEquals(0, set.exitCode(), set::toString);
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

    /** Spaces, tabs and UTF-8, in a locale that is not UTF-8: what comes back is printed byte for byte. */
    static final String UNUSUAL_LINES = "a\tb  c \n  ünïcödé ✓ €\n\t\n";

    static void assertEchoedExactly(Lab.Result result) {
        assertEquals(0, result.exitCode(), result::toString);
        String echoes = UNUSUAL_LINES.lines().map(line -> "echo: " + line + "\n").collect(Collectors.joining());
        assertTrue(result.stdout().endsWith(echoes), () -> "not byte for byte:\n" + result);
    }

    @Test void clientPrintsTheEchoExactlyAsItCame() {
        Lab.Result result = Lab.run(lab, JAVA_RUN, Map.of("LC_ALL", "C", "LANG", "C"), java("TlsEchoClient",
                "localhost", "" + port), UNUSUAL_LINES.getBytes(StandardCharsets.UTF_8));
        assertEchoedExactly(result);
    }

    @Test void clientTrustsAChainToATrustedRoot() throws Exception {
        try (var caServer = new TestTlsServer(caIssued.resolve("server.p12"), caIssued.resolve("server.pass"))) {
            Lab.Result result = run(lab, JAVA_RUN, java("TlsEchoClient", "localhost", "" + caServer.port,
                    caIssued.resolve("root.crt").toString()), UNUSUAL_LINES);
            assertEchoedExactly(result);
            assertTrue(result.stdout().contains("  Issuer: CN=Test Intermediate CA\n"), result::toString);
        }
    }

    @Test void clientRefusesAnExpiredOrNotYetValidCertificateFromATrustedCa() throws Exception {
        for (Path certs : List.of(caIssuedExpired, caIssuedFuture)) {
            try (var caServer = new TestTlsServer(certs.resolve("server.p12"), certs.resolve("server.pass"))) {
                assertRefused(client("localhost", caServer.port, certs.resolve("root.crt").toString()),
                        certs == caIssuedExpired ? "its certificate has expired" : "its certificate is not valid yet");
            }
        }
    }

    @ParameterizedTest @ValueSource(strings = {"TLSv1", "TLSv1.1"})
    void clientRefusesAServerOfAnOldVersionOnly(String version) throws Exception {
        // Re-enabling an old version is JVM-wide: the server gets a JVM of its own.
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", Lab.ROOT.resolve("tests/support/TestTlsServer.java").toString(),
                lab.resolve("certs/server.p12").toString(), lab.resolve("certs/server.pass").toString(), version);
        try (var old = new Lab.Background(dir, Map.of(), command)) {
            int oldPort = Integer.parseInt(old.await("Listening on \\S+:(\\d+)", Duration.ofSeconds(60)).group(1));
            assertRefused(client("localhost", oldPort, "certs/server.crt"), "TLS handshake failed: no TLS version in common");
        }
    }

    @Test void clientTypingMistakesAreTheProblemAndTheUsageWithExitStatus2() {
        String usage = "usage: java examples/TlsEchoClient.java [HOST [PORT [TRUST_FILE]]]";
        for (String badPort : List.of("0", "70000", "abc", "-1", "")) {
            Lab.Result result = run(lab, JAVA_RUN, java("TlsEchoClient", "localhost", badPort), "hello\n");
            assertUsageError(result, "TlsEchoClient: " + badPort + " is not a port number (1 to 65535)", usage);
        }
        Lab.Result tooMany = run(lab, JAVA_RUN, java("TlsEchoClient", "localhost", "" + port, "certs/server.crt", "x"), "");
        assertUsageError(tooMany, "TlsEchoClient: too many arguments", usage);
    }

    @Test void clientGivesUpOnAServerThatNeverAnswers() throws Exception {
        // One that accepts and says nothing, and one that finishes the handshake but never echoes.
        try (var mute = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
             var noEcho = TestTlsServer.serving(lab.resolve("certs"))) {
            noEcho.reply = line -> {
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            };
            for (int silentPort : List.of(mute.getLocalPort(), noEcho.port)) {
                long start = System.nanoTime();
                Lab.Result result = client("localhost", silentPort, "certs/server.crt");
                long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                assertRefused(result, "localhost:" + silentPort + " did not answer within 10 s");
                assertTrue(seconds >= 9 && seconds < 30, "gave up after " + seconds + " s");
            }
        }
    }

    @Test void clientNamesAnUnknownHost() {
        String host = "no-such-host.invalid";
        var lookup = CompletableFuture.supplyAsync(() -> {
            try {
                java.net.InetAddress.getByName(host);
                return "it resolves";
            } catch (UnknownHostException expected) {
                return "";
            }
        });
        String why = lookup.completeOnTimeout("the lookup takes more than 5 s", 5, TimeUnit.SECONDS).join();
        Assumptions.assumeTrue(why.isEmpty(), () -> "this machine's resolver cannot say 'unknown' for " + host + ": " + why);
        assertRefused(client(host, port, "certs/server.crt"), "unknown host " + host + ": check the name");
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
        assertRefused(client("localhost", nobodyThere, "certs/server.crt"), "connection refused by localhost:" + nobodyThere
                + ": is the server running, on that port?");

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
        assertTrue(lines.size() <= 150, name + " has " + lines.size() + " lines");
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
