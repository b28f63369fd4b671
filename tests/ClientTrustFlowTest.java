import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lecture's browser flow: an untrusted certificate is shown, accepted, stored, and the SAME run connects again with
 * full checks; later runs, without --trust, trust it silently (pinned); a changed one is refused. Also the client run
 * as a student runs it.
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

    static Lab.Result client(String stdin, boolean interactive, String... args) {
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
            Lab.Result first = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "yes", "--message", "first");
            assertEquals(0, first.exitCode(), first.toString());
            assertTrue(first.stdout().contains("The server's certificate is not trusted"), first.toString());
            assertTrue(first.stdout().contains("  SHA-256 fingerprint: " + fingerprint + "\n"), first.toString());
            assertTrue(first.stdout().contains("Stored it in " + known), first.toString());
            assertTrue(first.stdout().contains("echo: first"), first.toString());
            assertTrue(first.stderr().isEmpty(), first.toString());

            String stored = Files.readString(known);
            assertTrue(stored.startsWith("# localhost:" + server.port + " SHA-256 " + fingerprint + " added "), stored);
            assertEquals(cert, TestCerts.read(known));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(known)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(known.getParent())));

            // A later run, without --trust: the JDK's cacerts and the stored certificate, pinned, which it shows.
            Lab.Result later = client("", false, "localhost", "" + server.port, "--known-servers", known.toString(),
                    "--trust-new", "no", "--message", "later");
            assertEquals(0, later.exitCode(), later.toString());
            assertFalse(later.stdout().contains("not trusted"), later.toString());
            assertTrue(later.stdout().contains("certificates from the JDK's default trust store (cacerts), plus the "
                    + "certificate stored for localhost:" + server.port + " in " + known + "\n"), later.toString());
            assertTrue(later.stdout().contains("echo: later"), later.toString());
            assertTrue(later.stderr().isEmpty(), later.toString());
            assertEquals(stored, Files.readString(known), "a pinned run writes nothing");
        }
    }

    @Test void askOnATerminalTakesTheAnswerFromTheUser() throws Exception {
        Path known = dir.resolve("ask/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            Lab.Result declined = client("n\n", true, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString());
            assertTrue(declined.stdout().contains("Compare this fingerprint"), declined.toString());
            assertTrue(declined.stdout().contains("Trust this certificate? [y/N] Not trusted."), declined.toString());
            ClientTest.assertRefused(declined, 4, "not trusted");
            assertFalse(Files.exists(known), "nothing stored after no");

            Lab.Result accepted = client("y\nhello\n", true, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString());
            assertEquals(0, accepted.exitCode(), accepted.toString());
            assertTrue(accepted.stdout().contains("> echo: hello\n"), accepted.toString());
        }
    }

    @Test void noFailsCleanlyAndStoresNothing() throws Exception {
        Path known = dir.resolve("no/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            Lab.Result run = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString(), "--trust-new", "no", "--message", "x");
            ClientTest.assertRefused(run, 4, "not trusted", "self-signed", "--trust-new ask");
            assertFalse(run.stdout().contains("Trust this certificate"), run.toString());
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

            Lab.Result refused = client("", false, "localhost", "" + server.port, "--known-servers", known.toString(),
                    "--trust-new", "yes", "--message", "x");
            ClientTest.assertRefused(refused, 4, "has CHANGED", "man-in-the-middle",
                    "./jbang client.java --forget localhost:" + server.port + " --known-servers " + known);

            Lab.Result vouched = client("", false, "localhost", "" + server.port, "--trust", lab.resolve("server.crt").toString(),
                    "--known-servers", known.toString(), "--message", "renewed");
            assertEquals(0, vouched.exitCode(), vouched.toString());
            assertTrue(vouched.stdout().contains("echo: renewed\n"), vouched.toString());
            assertEquals("note: --trust verified this certificate, but a different one is stored for localhost:" + server.port
                    + " in " + known + "; drop it with: ./jbang client.java --forget localhost:" + server.port
                    + " --known-servers " + known + "\n", vouched.stderr());

            // A --trust that does not verify the server is "not trusted", as without a stored certificate.
            Lab.Result wrongTrust = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
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
                        known.toString(), "--trust-new", "yes", "--message", "x").exitCode());
            }
            String fingerprint = TestCerts.fingerprint(TestCerts.read(lab.resolve("server.crt")));
            Lab.Result forgot = client("", false, "--forget", "localhost:" + server.port, "--known-servers", known.toString());
            assertEquals(0, forgot.exitCode(), forgot.toString());
            assertTrue(forgot.stdout().matches("Forgot localhost:" + server.port + " \\(SHA-256 " + fingerprint
                    + " added \\S+\\) from " + java.util.regex.Pattern.quote(known.toString()) + "\\.\n"), forgot.toString());
            String left = Files.readString(known);
            assertFalse(left.contains("# localhost:" + server.port + " "), left);
            assertTrue(left.startsWith("# localhost:" + second.port + " SHA-256 " + fingerprint), left);
            assertEquals(TestCerts.read(lab.resolve("server.crt")), TestCerts.read(known), "the other entry is whole");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(known)));
            try (var files = Files.list(known.getParent())) {
                assertEquals(Set.of(known, lockFile(known)), files.collect(Collectors.toSet()),
                        "no temporary file left beside it, only the writers' lock file");
            }

            Lab.Result again = client("n\n", true, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", known.toString());
            assertTrue(again.stdout().contains("Trust this certificate? [y/N] Not trusted."), again.toString());
            Lab.Result nothing = client("", false, "--forget", "localhost:" + server.port, "--known-servers", known.toString());
            assertEquals(0, nothing.exitCode(), nothing.toString());
            assertEquals("Nothing is stored for localhost:" + server.port + " in " + known + " (it holds: localhost:"
                    + second.port + ").\n", nothing.stdout());
        }
    }

    static Path lockFile(Path known) {
        return known.resolveSibling(known.getFileName() + ".lock");
    }

    /** Each damaged file: exit 9 and one error line naming the file and the line, whether connecting or forgetting. */
    @Test void aDamagedKnownServersFileIsOneLineNamingTheFileAndTheLine() throws Exception {
        String pem = Files.readString(lab.resolve("server.crt"));
        long pemLines = pem.lines().count();
        String entry = "# localhost:9 SHA-256 AB:CD added 2026-01-01T00:00:00Z\n";
        Map<String, String> damaged = new LinkedHashMap<>();
        damaged.put("# caf\u00e9 au lait\n" + entry + pem, "line 1: a character that is not ASCII.");
        damaged.put(entry + pem + pem, "line " + (2 + pemLines) + ": a second certificate in the entry for localhost:9"
                + " (line 1): an entry holds one.");
        damaged.put(pem + entry + pem, "line 1: a certificate outside any entry");
        damaged.put(entry + "\n# no certificate here\n" + entry.replace(":9 ", ":10 ") + pem,
                "line 1: the entry for localhost:9 holds no certificate.");
        damaged.put(entry + pem + "not PEM\n", "line " + (2 + pemLines) + ": neither a comment");
        damaged.put(entry + pem.replace("-----END CERTIFICATE-----", ""), "line 2: a certificate with no -----END");
        damaged.put(entry + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "line 2: a certificate that cannot be read");
        damaged.put(entry + pem + "\n" + entry + pem, "line " + (3 + pemLines) + ": a second entry for localhost:9"
                + " (the first is on line 1).");
        int n = 0;
        for (var broken : damaged.entrySet()) {
            Path known = Files.createDirectories(dir.resolve("damaged")).resolve("known" + n++ + ".pem");
            Files.writeString(known, broken.getKey(), StandardCharsets.UTF_8);
            String error = "error: the known-servers file " + known + ", " + broken.getValue();
            Lab.Result connecting = client("", false, "localhost", "9", "--trust", unrelated(), "--known-servers",
                    known.toString(), "--message", "x");
            ClientTest.assertRefused(connecting, 9, error);
            ClientTest.assertRefused(client("", false, "--forget", "localhost:9", "--known-servers", known.toString()),
                    9, error);
            assertEquals(broken.getKey(), Files.readString(known, StandardCharsets.UTF_8), "left as it was");
        }
        // Unreadable is not the same as not ASCII: here a folder where the file should be.
        Path folder = Files.createDirectories(dir.resolve("damaged/a-folder.pem"));
        ClientTest.assertRefused(client("", false, "--forget", "localhost:9", "--known-servers", folder.toString()), 9,
                "error: the known-servers file " + folder + " cannot be read", "permissions");
        // Blank lines and comments alone are an empty file.
        for (String empty : List.of("\n", "#\n", "# my servers\n\n#\n")) {
            Path known = Files.writeString(dir.resolve("damaged/empty" + empty.length() + ".pem"), empty);
            Lab.Result run = client("", false, "--forget", "localhost:9", "--known-servers", known.toString());
            assertEquals(0, run.exitCode(), run.toString());
            assertEquals("Nothing is stored for localhost:9 in " + known + ".\n", run.stdout());
        }
    }

    /** Comments and blank lines anywhere, also inside an entry, are read past; forgetting an entry keeps the others. */
    @Test void commentsAndBlankLinesAnywhereAreReadPastAndKept() throws Exception {
        try (var server = TestTlsServer.serving(lab)) {
            String pem = Files.readString(lab.resolve("server.crt"));
            Path known = Files.writeString(Files.createDirectories(dir.resolve("commented")).resolve("known.pem"),
                    "# my servers\n\n# localhost:" + server.port + " SHA-256 AB added 2026-01-01T00:00:00Z\n"
                    + "# a note on it\n\n" + pem.replaceFirst("\n", "\n\n") + "\n#\n# the end\n");
            Lab.Result pinned = client("", false, "localhost", "" + server.port, "--known-servers",
                    known.toString(), "--trust-new", "no", "--message", "x");
            assertEquals(0, pinned.exitCode(), pinned.toString());
            assertTrue(pinned.stdout().contains("echo: x\n"), pinned.toString());
            assertEquals(0, client("", false, "--forget", "localhost:" + server.port, "--known-servers",
                    known.toString()).exitCode());
            assertEquals("# my servers\n\n\n#\n# the end\n", Files.readString(known));
        }
    }

    /** Clients storing at the same moment, in this JVM or in another process, all keep their entries. */
    @Test void clientsStoringAtOnceKeepEveryEntry() throws Exception {
        Path known = dir.resolve("at-once/known_servers.pem");
        List<TestTlsServer> servers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            for (int i = 0; i < 6; i++) servers.add(TestTlsServer.serving(lab));
            CyclicBarrier together = new CyclicBarrier(servers.size());
            List<Future<Lab.Result>> runs = new ArrayList<>();
            for (TestTlsServer server : servers) {
                runs.add(pool.submit(() -> {
                    together.await(30, TimeUnit.SECONDS);
                    return client("", false, "localhost", "" + server.port, "--trust", unrelated(), "--known-servers",
                            known.toString(), "--trust-new", "yes", "--message", "x");
                }));
            }
            for (var run : runs) assertEquals(0, run.get(60, TimeUnit.SECONDS).exitCode(), run.get().toString());
            List<String> stored = client.readKnownServers(known).entries().stream().map(client.KnownServer::server)
                    .sorted().toList();
            assertEquals(servers.stream().map(server -> "localhost:" + server.port).sorted().toList(), stored);

            // Many more writers than clients can make at once, straight at the store.
            X509Certificate cert = TestCerts.read(lab.resolve("server.crt"));
            Path many = dir.resolve("at-once/many.pem");
            List<Future<?>> writers = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                String server = "host" + i + ":8443";
                writers.add(pool.submit(() -> client.storeKnownServer(many, server, cert)));
            }
            for (var writer : writers) writer.get(60, TimeUnit.SECONDS);
            assertEquals(30, client.readKnownServers(many).entries().size());
            try (var files = Files.list(known.getParent())) {
                assertEquals(Set.of(known, lockFile(known), many, lockFile(many)), files.collect(Collectors.toSet()));
            }
        } finally {
            pool.shutdownNow();
            for (TestTlsServer server : servers) server.close();
        }
    }

    /** Another process holds the lock (here: this JVM): the client waits for it, then stores its entry. */
    @Test void aClientInAnotherProcessWaitsForTheLockBeforeStoring() throws Exception {
        Path known = Files.createDirectories(dir.resolve("locked")).resolve("known_servers.pem");
        try (var server = TestTlsServer.serving(lab);
             var lockFile = FileChannel.open(lockFile(known), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            Lab.Background run;
            try (FileLock held = lockFile.lock()) {
                run = new Lab.Background(dir, Map.of(), Lab.withLauncher(Lab.ROOT.resolve("client.java").toString(),
                        "localhost", "" + server.port, "--trust", unrelated(), "--known-servers", known.toString(),
                        "--trust-new", "yes", "--message", "x"));
                run.await("^Connecting again, trusting it", Duration.ofMinutes(2));
                Thread.sleep(1500);
                assertFalse(run.transcript().contains("Stored it"), run.transcript());
                assertFalse(Files.exists(known), "nothing written while another holds the lock");
            }
            try (run) {
                run.await("^Stored it in " + Pattern.quote(known.toString()) + " for localhost:" + server.port + "\\.$",
                        Duration.ofSeconds(30));
                run.await("^echo: x$", Duration.ofSeconds(30));
            }
            assertEquals(List.of("localhost:" + server.port), client.readKnownServers(known).entries().stream()
                    .map(client.KnownServer::server).toList());
        }
    }

    /** A known-servers file that is a symbolic link stays one: its target is what is rewritten. */
    @Test void aSymbolicLinkIsFollowedNotReplaced() throws Exception {
        Path target = Files.createDirectories(dir.resolve("linked/real")).resolve("known.pem");
        Files.writeString(target, "# my own file\n");
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("linked/home")).resolve("known.pem"),
                Path.of("../real/known.pem"));
        try (var server = TestTlsServer.serving(lab)) {
            Lab.Result run = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
                    "--known-servers", link.toString(), "--trust-new", "yes", "--message", "x");
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(Files.isSymbolicLink(link), "still a link");
            assertTrue(Files.readString(target).startsWith("# my own file\n# localhost:" + server.port + " SHA-256 "),
                    Files.readString(target));
            assertTrue(Files.exists(lockFile(target)), "the lock beside the real file");
        }
    }

    /** A write that fails leaves no temporary file (here the rename fails: a folder is in the file's place). */
    @Test void aFailedWriteLeavesNoTemporaryFile() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("failed-write"));
        Path inTheWay = Files.createDirectories(folder.resolve("known.pem/not-empty"));
        assertThrows(IOException.class, () -> client.replace(inTheWay.getParent(), List.of("# x")));
        try (var files = Files.list(folder)) {
            assertEquals(List.of(inTheWay.getParent()), files.toList());
        }
    }

    /** The entry is stored only once the second, pinned attempt passed: here the server is gone by then. */
    @Test void nothingIsStoredWhenTheSecondAttemptFails() throws Exception {
        Path known = dir.resolve("second-fails/known_servers.pem");
        try (var server = TestTlsServer.serving(lab)) {
            // The answer "y" is read after the first attempt: the server stops listening just then.
            InputStream stopsTheServer = new InputStream() {
                private final InputStream answer = new ByteArrayInputStream("y\n".getBytes(StandardCharsets.UTF_8));

                @Override public int read() throws IOException {
                    server.close();
                    return answer.read();
                }

                @Override public int read(byte[] b, int off, int len) throws IOException {
                    server.close();
                    return answer.read(b, off, len);
                }
            };
            Lab.Result run = ClientTest.client(stopsTheServer, true, "localhost", "" + server.port, "--trust",
                    unrelated(), "--known-servers", known.toString());
            assertTrue(run.stdout().contains("Connecting again, trusting it"), run.toString());
            ClientTest.assertRefused(run, 3, "connection refused");
            assertFalse(Files.exists(known), "nothing stored");
            assertFalse(Files.exists(known.getParent()), "not even its folder");
        }
    }

    @Test void aCertificateForAnotherNameOrOutOfDateIsNeverOffered() throws Exception {
        Path known = dir.resolve("never/known_servers.pem");
        try (var server = TestTlsServer.serving(wrongName)) {
            Lab.Result run = client("", false, "localhost", "" + server.port, "--trust", unrelated(),
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
        Peers.require("openssl", "openssl");
        Path key = dir.resolve("openssl.key"), cert = dir.resolve("openssl.crt");
        Lab.Result made = Lab.run(dir, Duration.ofSeconds(30), Map.of(), List.of("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "1", "-subj", "/CN=other.test", "-addext", "subjectAltName=DNS:other.test"));
        assertEquals(0, made.exitCode(), made.toString());
        // Port 0: openssl binds a free one and reports it ("ACCEPT 127.0.0.1:PORT").
        try (var server = new Lab.Background(dir, Map.of(), List.of("openssl", "s_server", "-accept", "127.0.0.1:0",
                "-cert", cert.toString(), "-key", key.toString(), "-rev"))) {
            String port = server.await("^ACCEPT \\S+:(\\d+)$", Duration.ofSeconds(20)).group(1);
            Lab.Result run = client("", false, "localhost", "" + port, "--trust", cert.toString(),
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
