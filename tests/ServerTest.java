import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Security;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** server.java over real TLS on loopback: in-process on port 0, plus a few runs as separate processes. */
class ServerTest {
    @TempDir static Path dir;
    static Path certs;
    static SSLContext trustingOurCertificate;

    @BeforeAll static void makeCertificate() throws Exception {
        certs = Lab.certs(dir);
        trustingOurCertificate = trusting(certs.resolve("server.crt"));
    }

    /** A client context that trusts exactly this certificate: what a student's client does after "trust it?". */
    static SSLContext trusting(Path certificate) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("lab", TestCerts.read(certificate));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /** An in-process server on a free port, its log captured. */
    record Running(server server, int port, Lab.Lines log) implements AutoCloseable {
        @Override public void close() { server.stop(); }

        /** The log once a line of it holds {@code text}, wherever (the lines of several clients come in any order). */
        String awaitLog(String text) throws InterruptedException {
            return log.awaitAnywhere(Pattern.quote(text), Duration.ofSeconds(15));
        }
    }

    static Running start(String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("--port", "0", "--keystore", certs.resolve("server.p12").toString(),
                "--password-file", certs.resolve("server.pass").toString()));
        args.addAll(List.of(options));
        server command = new server();
        new CommandLine(command).parseArgs(args.toArray(String[]::new));
        Lab.Lines log = new Lab.Lines("the server's log", 1);
        return new Running(command, command.start(log.writer()), log);
    }

    static SSLSocket connect(int port, String... protocols) throws IOException {
        return connect(trustingOurCertificate, port, protocols);
    }

    static SSLSocket connect(SSLContext context, int port, String... protocols) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", port);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");   // check the name, as every real client must
        if (protocols.length > 0) parameters.setProtocols(protocols);
        socket.setSSLParameters(parameters);
        socket.setSoTimeout(30_000);
        socket.startHandshake();
        return socket;
    }

    /** Threads of their own for the writers: the common pool has one thread on two cores, and 200 clients write at once. */
    static final ExecutorService WRITERS = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "test client writer");
        thread.setDaemon(true);
        return thread;
    });

    /** Writes on another thread while reading here, so the echo of a large payload never deadlocks on full buffers. */
    static byte[] roundTrip(Socket socket, byte[] data) throws Exception {
        OutputStream out = socket.getOutputStream();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                for (int offset = 0; offset < data.length; offset += 65_536) {
                    out.write(data, offset, Math.min(65_536, data.length - offset));
                }
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, WRITERS);
        byte[] echoed = socket.getInputStream().readNBytes(data.length);
        writer.get(30, TimeUnit.SECONDS);
        return echoed;
    }

    static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @ParameterizedTest @ValueSource(strings = {"listen", "accept"})
    void echoesTextBinaryAndALongLineExactly(String wrap) throws Exception {
        try (Running running = start("--wrap", wrap)) {
            byte[] binary = new byte[512];
            for (int i = 0; i < binary.length; i++) binary[i] = (byte) (i % 3 == 0 ? 0 : i);
            byte[] megabyteWithoutNewline = random(1 << 20, 1);
            for (int i = 0; i < megabyteWithoutNewline.length; i++) if (megabyteWithoutNewline[i] == '\n') megabyteWithoutNewline[i] = 'x';
            try (SSLSocket socket = connect(running.port())) {
                byte[] text = "héllo, TLS\n".getBytes(StandardCharsets.UTF_8);
                assertArrayEquals(text, roundTrip(socket, text));
                assertArrayEquals(binary, roundTrip(socket, binary));
                assertArrayEquals(megabyteWithoutNewline, roundTrip(socket, megabyteWithoutNewline));
            }
            long total = 12 + 512 + (1 << 20);
            String log = running.awaitLog("closed by client");
            assertTrue(log.matches("(?s).*127\\.0\\.0\\.1:\\d+ TLSv1\\.3 TLS_AES_\\w+ echoed " + total + " bytes in \\d+ ms, closed by client.*"), log);
        }
    }

    @ParameterizedTest @ValueSource(strings = {"listen", "accept"})
    void streams16MiBByteForByte(String wrap) throws Exception {
        try (Running running = start("--wrap", wrap); SSLSocket socket = connect(running.port())) {
            byte[] data = random(16 << 20, 16);
            assertArrayEquals(data, roundTrip(socket, data));
        }
    }

    @ParameterizedTest @ValueSource(strings = {"listen", "accept"})
    void servesTls12OnlyAndTls13OnlyClients(String wrap) throws Exception {
        try (Running running = start("--wrap", wrap)) {
            for (String version : List.of("TLSv1.2", "TLSv1.3")) {
                try (SSLSocket socket = connect(running.port(), version)) {
                    assertEquals(version, socket.getSession().getProtocol());
                    assertArrayEquals(new byte[] {1, 2, 3}, roundTrip(socket, new byte[] {1, 2, 3}));
                }
            }
        }
    }

    @Test void allowsOnlyTheVersionsAskedFor() throws Exception {
        try (Running running = start("--tls", "TLSv1.3")) {
            assertThrows(SSLException.class, () -> connect(running.port(), "TLSv1.2").close());
            assertTrue(running.awaitLog("protocol version mismatch").contains("the client offers [TLSv1.2], this server allows TLSv1.3 (see --tls)"), running.log()::toString);
        }
    }

    /** The suites the listener enables, exactly, on JDK 17 and 25: TLS 1.3's, and TLS 1.2's ECDHE with an AEAD. */
    static final List<String> SUITES = List.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");

    @Test void theListenerEnablesExactlyTheForwardSecretAeadSuites() throws Exception {
        try (Running running = start()) {
            assertEquals(SUITES, List.of(((SSLServerSocket) running.server().listener()).getEnabledCipherSuites()));
        }
    }

    /**
     * On the wire, in both wrap modes: a client offering one suite at a time, each the JDK's client would use, is
     * served only for those suites (less the RSA ones, which an EC certificate cannot serve).
     */
    @ParameterizedTest @ValueSource(strings = {"listen", "accept"})
    void servesOnlyThoseSuites(String wrap) throws Exception {
        List<String> accepted = new ArrayList<>();
        try (Running running = start("--wrap", wrap)) {
            for (String suite : trustingOurCertificate.getDefaultSSLParameters().getCipherSuites()) {
                String version = suite.matches("TLS_(AES|CHACHA20)_.*") ? "TLSv1.3" : "TLSv1.2";
                try (var socket = (SSLSocket) trustingOurCertificate.getSocketFactory().createSocket("localhost",
                        running.port())) {
                    SSLParameters parameters = socket.getSSLParameters();
                    parameters.setProtocols(new String[] {version});
                    parameters.setCipherSuites(new String[] {suite});
                    socket.setSSLParameters(parameters);
                    socket.setSoTimeout(30_000);
                    socket.startHandshake();
                    accepted.add(suite);
                } catch (SSLException refused) {
                    // not one of the server's
                }
            }
        }
        assertEquals(SUITES.stream().filter(suite -> !suite.contains("_RSA_")).toList(), accepted);
    }

    /** openssl offers only CBC suites with TLS 1.2: the JDK's defaults take them (the control), the server does not. */
    @Test void refusesTheCbcSuitesTheJdkWouldTake() throws Exception {
        Peers.require("openssl", "openssl");
        List<String> cbc = List.of("openssl", "s_client", "-tls1_2", "-cipher",
                "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA");
        try (var jdkDefaults = TestTlsServer.serving(certs)) {
            Lab.Result control = Lab.run(dir, Duration.ofSeconds(30), Map.of(),
                    concat(cbc, "-connect", "localhost:" + jdkDefaults.port), new byte[0]);
            assertTrue(control.stdout().matches("(?s).*Cipher is ECDHE-ECDSA-AES128-SHA.*"), control::toString);
        }
        try (Running running = start()) {
            Lab.Result result = Lab.run(dir, Duration.ofSeconds(30), Map.of(),
                    concat(cbc, "-connect", "localhost:" + running.port()), new byte[0]);
            assertTrue(result.all().contains("Cipher is (NONE)"), result::toString);
            running.awaitLog("no cipher suite in common");
        }
    }

    static List<String> concat(List<String> command, String... more) {
        List<String> all = new ArrayList<>(command);
        all.addAll(List.of(more));
        return all;
    }

    @Test void echoesForOpensslWithHostNameVerification() throws Exception {
        Peers.require("openssl", "openssl");
        try (Running running = start();
             var openssl = new Lab.Background(dir, Map.of(), List.of("openssl", "s_client", "-connect", "localhost:" + running.port(),
                     "-CAfile", certs.resolve("server.crt").toString(), "-verify_hostname", "localhost", "-verify_return_error", "-quiet"))) {
            openssl.process.getOutputStream().write("echo me\n".getBytes(StandardCharsets.UTF_8));
            openssl.process.getOutputStream().flush();
            openssl.await("^echo me$", Duration.ofSeconds(20));
        }
    }

    @Test void tls10IsRefusedByDefault() throws Exception {
        try (Running running = start()) {
            Lab.Result legacy = legacyClient(running.port());
            assertEquals(1, legacy.exitCode(), legacy::toString);
            assertTrue(running.awaitLog("handshake failed").contains("protocol version mismatch: the client offers [TLSv1]"), running.log()::toString);
        }
    }

    @Test void tls10WorksOnlyWhenAskedFor() throws Exception {
        // JSSE reads jdk.tls.disabledAlgorithms once per JVM, so the legacy server runs in its own JVM, as a user runs it.
        List<String> command = java("server", "--port", "0", "--tls", "1.0,1.2,1.3", "--keystore", certs.resolve("server.p12").toString());
        try (var legacyServer = new Lab.Background(dir, Map.of(), command)) {
            int port = Integer.parseInt(legacyServer.await("Listening on \\S+:(\\d+)", Duration.ofSeconds(30)).group(1));
            legacyServer.await("WARNING: legacy TLS versions are on", Duration.ofSeconds(5));
            Lab.Result legacy = legacyClient(port);
            assertEquals(0, legacy.exitCode(), legacy::toString);
            assertTrue(legacy.stdout().matches("TLSv1 TLS_ECDHE_ECDSA_\\w+ echoed: legacy\n"), legacy::toString);
            legacyServer.await(" TLSv1 TLS_ECDHE_ECDSA_\\w+ echoed 7 bytes", Duration.ofSeconds(10));
            // JSSE has one suite list for all versions: a TLS 1.2 client that picks a CBC suite is closed after its handshake.
            Lab.Result cbc = legacyClient(port, "TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA");
            assertEquals("TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA closed after the handshake\n", cbc.stdout(), cbc::toString);
            legacyServer.await("TLSv1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA closed: CBC is for TLS 1.0/1.1", Duration.ofSeconds(10));
        }
    }

    /** In a JVM whose JSSE has started, --tls 1.0 cannot work: the server says so instead of starting without it. */
    @Test void legacyVersionsAfterJsseStartedAreRefusedNotIgnored() throws Exception {
        SSLContext.getDefault();   // JSSE has started: it has read its disabled list for good
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        Lab.Result result = runInProcess("--port", "0", "--keystore", certs.resolve("server.p12").toString(), "--tls", "1.0,1.2");
        assertFails(2, result, "error: --tls: this JDK does not offer TLS 1.0 here, even for this run (JSSE had already started");
        assertEquals(2, result.stderr().lines().count(), result::toString);
        assertFalse(result.stdout().contains("Listening") || result.stdout().contains("WARNING"), result::toString);
        assertEquals(disabled, Security.getProperty("jdk.tls.disabledAlgorithms"), "the disabled list as it was");
    }

    /** --tls 1.0 adds only the ECDHE CBC suites TLS 1.0 and 1.1 need: never static RSA, never without forward secrecy. */
    @Test void legacyVersionsAddOnlyForwardSecretCbcSuites() throws Exception {
        List<String> modern = Arrays.asList(server.cipherSuites(SSLContext.getDefault(), false));
        List<String> legacy = Arrays.asList(server.cipherSuites(SSLContext.getDefault(), true));
        assertTrue(legacy.containsAll(modern), legacy::toString);
        for (String suite : legacy) {
            assertTrue(suite.matches("TLS_(AES|CHACHA20)_\\w+|TLS_ECDHE_(ECDSA|RSA)_WITH_\\w+"), suite);
            if (!modern.contains(suite)) assertTrue(suite.matches("TLS_ECDHE_\\w+_CBC_SHA"), suite);
        }
        assertTrue(modern.stream().noneMatch(suite -> suite.contains("_CBC_")), modern::toString);
    }

    /** Runs {@link LegacyClient} in a JVM of its own, so re-enabling TLS 1.0 there never leaks into these tests. */
    static Lab.Result legacyClient(int port, String... versionAndSuite) {
        List<String> args = new ArrayList<>(List.of(String.valueOf(port), certs.resolve("server.crt").toString()));
        args.addAll(versionAndSuite.length > 0 ? List.of(versionAndSuite) : List.of("TLSv1"));
        return Lab.run(dir, Duration.ofSeconds(60), Map.of(), java(LegacyClient.class.getName(), args.toArray(String[]::new)));
    }

    static List<String> java(String mainClass, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * A client of one TLS version, and optionally one cipher suite, run as its own process with TLS 1.0/1.1 allowed:
     * prints "VERSION SUITE echoed: legacy", or "closed after the handshake"; exit 1 if the handshake fails.
     */
    static final class LegacyClient {
        public static void main(String... args) throws Exception {
            TestTlsServer.allowLegacyTls("TLSv1", "TLSv1.1");
            SSLContext context = trusting(Path.of(args[1]));
            try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", Integer.parseInt(args[0]))) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setProtocols(new String[] {args[2]});
                if (args.length > 3) parameters.setCipherSuites(new String[] {args[3]});
                socket.setSSLParameters(parameters);
                socket.setSoTimeout(30_000);
                socket.startHandshake();
                System.out.print(socket.getSession().getProtocol() + " " + socket.getSession().getCipherSuite() + " ");
                try {
                    socket.getOutputStream().write("legacy\n".getBytes(StandardCharsets.UTF_8));
                    byte[] echoed = socket.getInputStream().readNBytes(7);
                    System.out.println(echoed.length == 7 ? "echoed: " + new String(echoed, StandardCharsets.UTF_8).strip()
                            : "closed after the handshake");
                } catch (IOException closed) {
                    System.out.println("closed after the handshake");
                }
            } catch (SSLException e) {
                System.out.println("refused: " + e.getClass().getSimpleName());
                System.exit(1);
            }
            System.exit(0);
        }
    }

    @Test void twoHundredConcurrentClientsGetTheirOwnBytesBack() throws Exception {
        int clients = 200;
        CyclicBarrier allConnected = new CyclicBarrier(clients);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (Running running = start()) {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                results.add(pool.submit(() -> {
                    byte[] payload = random(1000 + id * 37, id);
                    try (SSLSocket socket = connect(running.port())) {
                        allConnected.await(60, TimeUnit.SECONDS);   // all 200 open at once before anyone echoes
                        assertArrayEquals(payload, roundTrip(socket, payload), "client " + id);
                        assertArrayEquals(payload, roundTrip(socket, payload), "client " + id + ", second round");
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) result.get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test void badClientsDoNotStopItServingAGoodOne() throws Exception {
        // A silent client may hold its handshake 60 s: a good one served within 30 s was not kept waiting behind it.
        try (Running running = start("--handshake-timeout", "60");
             Socket garbage = new Socket("127.0.0.1", running.port());
             Socket http = new Socket("127.0.0.1", running.port());
             Socket silent = new Socket("127.0.0.1", running.port())) {
            garbage.getOutputStream().write(random(4096, 42));
            http.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                try (SSLSocket good = connect(running.port())) {
                    assertArrayEquals("still here\n".getBytes(), roundTrip(good, "still here\n".getBytes()));
                }
            });
            running.awaitLog("not a TLS client: it sent plaintext");
            silent.setSoTimeout(500);
            assertEquals(0, readOrEnd(silent.getInputStream()), "the silent client was still waiting: not closed");
        }
    }

    @Test void explainsAClientThatRejectsTheCertificate() throws Exception {
        try (Running running = start()) {
            SSLContext javaDefaultTrust = SSLContext.getInstance("TLS");
            javaDefaultTrust.init(null, null, null);   // cacerts only: our self-signed certificate is unknown there
            assertThrows(SSLException.class, () -> connect(javaDefaultTrust, running.port()).close());
            assertTrue(running.awaitLog("the client rejected our certificate").contains("certificate_unknown"), running.log()::toString);
        }
    }

    @Test void handshakeAndIdleTimeoutsCloseSilentSockets() throws Exception {
        try (Running running = start("--handshake-timeout", "1", "--idle-timeout", "1");
             Socket silent = new Socket("127.0.0.1", running.port());
             SSLSocket idle = connect(running.port())) {
            silent.setSoTimeout(10_000);
            long started = System.nanoTime();
            assertEquals(-1, readOrEnd(silent.getInputStream()));
            assertEquals(-1, readOrEnd(idle.getInputStream()));
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(8));
            running.awaitLog("handshake timeout (no complete TLS handshake within 1 s)");
            running.awaitLog("idle timeout (nothing for 1 s)");
        }
    }

    /** -1 when the server closed the connection, whether with a TLS alert, a FIN or a reset. */
    static int readOrEnd(InputStream in) {
        try {
            while (in.read() != -1) { /* an alert record on the plain socket */ }
            return -1;
        } catch (IOException closed) {
            return closed instanceof SocketTimeoutException ? 0 : -1;
        }
    }

    @Test void turnsNewcomersAwayPastMaxClients() throws Exception {
        try (Running running = start("--max-clients", "2");
             SSLSocket first = connect(running.port());
             SSLSocket second = connect(running.port())) {
            assertThrows(IOException.class, () -> connect(running.port()).close());
            running.awaitLog("refused: already serving 2 clients (--max-clients)");
            first.close();
            running.awaitLog("closed by client");
            try (SSLSocket third = connect(running.port())) {
                assertArrayEquals(new byte[] {7}, roundTrip(third, new byte[] {7}));
            }
        }
    }

    @Test void aThousandConnectionsLeaveNoThreadsBehind() throws Exception {
        try (Running running = start()) {
            String prefix = "tls-echo-" + running.port() + "-client-";
            long baseline = threadsNamed(prefix);
            for (int i = 0; i < 1000; i++) {
                connect(running.port()).close();
            }
            // Idle workers end after the pool's keep-alive.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(server.WORKER_KEEP_ALIVE_SECONDS + 10);
            while (threadsNamed(prefix) > baseline && System.nanoTime() < deadline) Thread.sleep(100);
            assertEquals(baseline, threadsNamed(prefix), "worker threads left");
            assertEquals(1000, running.server().served());
        }
    }

    static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    @Test void stopClosesClientsFreesThePortAndSums() throws Exception {
        Running running = start();
        try (SSLSocket idle = connect(running.port())) {
            roundTrip(idle, new byte[] {1, 2, 3, 4, 5});
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> running.server().stop());
            assertEquals(-1, readOrEnd(idle.getInputStream()));
        }
        assertTrue(running.log().toString().contains("Stopped: 1 connection served, 0 failed handshakes, 5 bytes echoed."), running.log()::toString);
        try (ServerSocket again = new ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), running.port()));
        }
    }

    /** Runs the command in-process as picocli would and returns its exit code and everything it printed. */
    static Lab.Result runInProcess(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = server.commandLine(new server()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
        return new Lab.Result(exit, out.toString(), err.toString());
    }

    static void assertFails(int exitCode, Lab.Result result, String... phrases) {
        assertEquals(exitCode, result.exitCode(), result::toString);
        for (String phrase : phrases) assertTrue(result.stderr().contains(phrase), () -> "no '" + phrase + "' in " + result);
        assertFalse(result.all().contains("at java.") || result.all().contains("Exception in thread"), result::toString);
    }

    @Test void startupProblemsSayWhatAndHowToFix() throws Exception {
        String keystore = certs.resolve("server.p12").toString();
        String pass = certs.resolve("server.pass").toString();
        Path wrongPassword = Files.writeString(dir.resolve("wrong.pass"), "not-the-password\n");
        assertFails(3, runInProcess("--keystore", dir.resolve("nowhere/server.p12").toString()), "not found", "./certgen.sh");
        assertFails(3, runInProcess("--keystore", keystore, "--password-file", wrongPassword.toString()), "wrong password", "Fix:");
        assertFails(3, runInProcess("--keystore", certs.resolve("server.crt").toString(), "--password-file", pass), "not a PKCS12 keystore");
        assertFails(3, runInProcess("--keystore", keystore, "--password-file", dir.resolve("none.pass").toString()), "password file");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertFails(4, runInProcess("--keystore", keystore, "--port", String.valueOf(taken.getLocalPort())), "already in use", "--port");
        }
        assertFails(4, runInProcess("--keystore", keystore, "--bind", "203.0.113.7"), "not an address of this machine", "--bind 127.0.0.1");
        assertFails(2, runInProcess("--keystore", keystore, "--tls", "1.4"), "unknown TLS version '1.4'");
        assertFails(2, runInProcess("--keystore", keystore, "--port", "70000"), "--port must be 0..65535");
        assertFails(2, runInProcess("--wrap", "sideways"), "--wrap");
        assertFails(2, runInProcess("--max-clients", "lots"), "--max-clients");
    }

    @Test void lowPortWithoutPermissionSaysWhy() {
        assumeFalse(canListenOn(1), "this user may listen on low ports (root?), so there is no refusal to see");
        assertFails(4, runInProcess("--keystore", certs.resolve("server.p12").toString(), "--port", "1"), "ports below 1024", "--port 8443");
    }

    static boolean canListenOn(int port) {
        try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return !String.valueOf(e.getMessage()).contains("Permission denied");
        }
    }

    @Test void asAProcessMissingKeystoreIsOneHelpfulLine() {
        Lab.Result result = Lab.jbang(dir, Duration.ofMinutes(3), Lab.ROOT.resolve("server.java").toString(),
                "--keystore", "missing/server.p12");
        assertFails(3, result, "server: keystore missing/server.p12 not found.", "run ./certgen.sh");
    }

    @Test void asAProcessItPrintsTheBannerEchoesAndStopsCleanlyOnSigterm() throws Exception {
        // Run exactly as a student would, from a folder holding certs/ (certgen.sh's default), with no options but the port.
        try (var server = new Lab.Background(dir, Map.of(), Lab.withLauncher(Lab.ROOT.resolve("server.java").toString(), "--port", "0"))) {
            int port = Integer.parseInt(server.await("^Listening on 127\\.0\\.0\\.1:(\\d+) \\(TLSv1\\.3, TLSv1\\.2, wrap=listen\\)", Duration.ofMinutes(3)).group(1));
            String fingerprint = TestCerts.fingerprint(TestCerts.read(certs.resolve("server.crt")));
            server.await("SHA-256 fingerprint: " + fingerprint, Duration.ofSeconds(5));
            server.await("jbang client.java localhost " + port, Duration.ofSeconds(5));
            try (SSLSocket socket = connect(port)) {
                assertArrayEquals("bye\n".getBytes(), roundTrip(socket, "bye\n".getBytes()));
            }
            server.await("echoed 4 bytes in \\d+ ms, closed by client", Duration.ofSeconds(10));
            server.process.toHandle().destroy();   // SIGTERM, like Ctrl-C (Process.destroy() would also close our end of its output)
            assertTrue(server.process.waitFor(20, TimeUnit.SECONDS), server::transcript);
            assertEquals(0, server.process.exitValue(), server::transcript);
            server.await("^Stopped: 1 connection served, 0 failed handshakes, 4 bytes echoed\\.$",
                    Duration.ofSeconds(5));
            assertFalse(server.transcript().contains("at java."), server::transcript);
        }
    }

    /** A classroom server (--bind 0.0.0.0): the banner lists this machine's IPv4 addresses and what the certificate names. */
    @Test void aClassroomBannerListsTheAddressesClassmatesCanUseAndWhetherTheCertificateNamesThem() throws Exception {
        List<String> addresses = java.net.NetworkInterface.networkInterfaces().filter(card -> {
            try {
                return card.isUp();
            } catch (java.net.SocketException e) {
                return false;
            }
        }).flatMap(java.net.NetworkInterface::inetAddresses)
                .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                .map(java.net.InetAddress::getHostAddress).toList();
        org.junit.jupiter.api.Assumptions.assumeFalse(addresses.isEmpty(), "this machine has no network address");
        Path named = Lab.certs(Files.createDirectories(dir.resolve("classroom")), "--name", "lab.test", "--name", addresses.get(0));
        for (Path folder : List.of(certs, named)) {
            server command = new server();
            new CommandLine(command).parseArgs("--port", "0", "--bind", "0.0.0.0", "--keystore", folder.resolve("server.p12").toString());
            Lab.Lines log = new Lab.Lines("the server's log", 1);
            try (Running running = new Running(command, command.start(log.writer()), log)) {
                StringWriter banner = new StringWriter();
                running.server().printBanner(new PrintWriter(banner, true));
                String text = banner.toString();
                assertTrue(text.contains("\n  Classmates can connect to:\n"), text);
                boolean namesFirst = folder.equals(named);
                for (String address : addresses) {
                    boolean inCertificate = namesFirst && address.equals(addresses.get(0));
                    assertTrue(text.matches("(?s).*\n    " + java.util.regex.Pattern.quote(address) + " +"
                            + (inCertificate ? "\\(named in the certificate\\)" : "NOT in the certificate: .*name check") + "\n.*"), text);
                }
                List<String> missing = addresses.subList(namesFirst ? 1 : 0, addresses.size());
                String certgen = "./certgen.sh --force --out " + folder + (namesFirst ? " --name lab.test --name "
                        + addresses.get(0) : "") + missing.stream().map(a -> " --name " + a).collect(Collectors.joining());
                assertEquals(!missing.isEmpty(), text.contains("  To add the missing ones: "), text);
                assertTrue(missing.isEmpty() || text.contains("  To add the missing ones: " + certgen + ", then restart"), text);
                assertTrue(text.contains("  Try it: ./jbang client.java localhost " + running.port()), text);
                String listed = text.substring(text.indexOf("Classmates"), text.indexOf("  Try it"));
                assertFalse(listed.matches("(?s).*\\n    \\S*:.*"), "0.0.0.0 takes IPv4 only, so no IPv6 address is listed:\n" + text);
            }
        }
    }
}
