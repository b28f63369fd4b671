import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lecturer's lab check, lecturer/LabCheck.java, run as a lecturer runs it (its own JVM, real processes, real TLS
 * on loopback): full marks for the worked solutions and for the lab's own server.java and client.java; for copies of
 * the worked solutions broken as students break them, exactly the marks of what each break gets wrong.
 */
class LabCheckTest {
    static final Path EXAMPLES = Lab.ROOT.resolve("examples");
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    /** Flags that start a short-lived JVM faster: the check starts dozens of them. */
    static final String FAST = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

    /** The start of the rubric lines that the broken copies lose. */
    static final String OLD_VERSIONS = "server: refuses TLS 1.0 and 1.1", CERTIFICATE = "server: its certificate is",
            PLAINTEXT = "server: still serves after a plaintext client", AT_ONCE = "server: serves 8 clients",
            SILENT = "server: serves a client while a silent one is connected",
            BYTE_EXACT = "server: echoes byte-exact";
    static final String CLIENT_ECHO = "client: echoes a line", REPORT = "client: prints the certificate report",
            UNTRUSTED = "client: refuses an untrusted certificate", WRONG_NAME = "client: refuses a certificate for",
            EXPIRED = "client: refuses an expired certificate", TLS10 = "client: refuses a TLS 1.0-only server";
    static final List<String> REFUSALS = List.of(UNTRUSTED, WRONG_NAME, EXPIRED, TLS10);
    /** The command templates that --help and README.md give, as a lecturer copies them. */
    static final List<String> TEMPLATES = List.of("--server 'java examples/TlsEchoServer.java {port}'",
            "--client 'java examples/TlsEchoClient.java {host} {port} {trust}'",
            "--server './jbang server.java --port {port}'",
            "--client './jbang client.java {host} {port} --trust {trust}'");

    @TempDir static Path dir;
    /** LabCheck and the broken copies, compiled once: each is then a plain JVM start for the check to run. */
    static Path classes;
    /** The lab checks run three at a time: most of a check's time is spent waiting for the programs it runs. */
    static final ExecutorService pool = Executors.newFixedThreadPool(3);
    static final Map<String, Future<Lab.Result>> checks = new ConcurrentHashMap<>();

    @BeforeAll static void compileAndStartTheChecks() throws Exception {
        Lab.certs(dir);   // dir/certs, as ./certgen.sh makes it: the worked server reads it, the check trusts it
        TestCerts.selfSigned(dir.resolve("no-ip/certs"), "localhost", "dns:localhost");
        Files.createDirectories(dir.resolve("no-certs"));
        Path src = Files.createDirectories(dir.resolve("src"));
        List<String> sources = new ArrayList<>(List.of(Lab.ROOT.resolve("lecturer/LabCheck.java").toString(),
                EXAMPLES.resolve("TlsEchoServer.java").toString(),
                EXAMPLES.resolve("TlsEchoClient.java").toString()));
        sources.addAll(brokenCopies(src));
        classes = dir.resolve("classes");
        List<String> javac = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "javac")
                .toString(), "-J-XX:TieredStopAtLevel=1", "-encoding", "UTF-8", "-d", classes.toString()));
        javac.addAll(sources);
        Lab.Result compiled = Lab.run(dir, Duration.ofMinutes(2), Map.of(), javac);
        assertEquals(0, compiled.exitCode(), compiled::toString);

        // The README's command, word for word, in a folder with certs/ and examples/ as in the project; with its own
        // temporary folder, to see that the check leaves nothing behind there.
        Files.createDirectories(dir.resolve("tmp"));
        Files.createDirectories(dir.resolve("examples"));
        for (String solution : List.of("TlsEchoServer.java", "TlsEchoClient.java")) {
            Files.copy(EXAMPLES.resolve(solution), dir.resolve("examples").resolve(solution));
        }
        List<String> worked = new ArrayList<>(List.of(JAVA, "-Djava.io.tmpdir=" + dir.resolve("tmp"),
                Lab.ROOT.resolve("lecturer/LabCheck.java").toString()));
        worked.addAll(asArguments(TEMPLATES.get(0)));
        worked.addAll(asArguments(TEMPLATES.get(1)));
        worked.addAll(List.of("--json", dir.resolve("worked.json").toString()));
        check("worked solutions", dir, worked);
        // The README's templates, with the launcher's and the scripts' full paths: this is not the project folder.
        // Nothing is built beforehand: the check builds ./jbang commands itself, unmarked, before it times them.
        check("lab's programs", dir, labCheckCommand("--server", quote(Lab.ROOT.resolve("jbang"),
                Lab.ROOT.resolve("server.java")) + " --port {port}", "--client", quote(Lab.ROOT.resolve("jbang"),
                Lab.ROOT.resolve("client.java")) + " {host} {port} --trust {trust}"));
        for (String copy : List.of("NoHostNameCheck", "PrintsStackTrace", "SwallowsException", "NoDateCheck",
                "NoReport", "NeverReadsTheEcho", "PrintsItsInputAsTheEcho")) {
            check(copy, dir, labCheckCommand("--client", compiled(copy) + " {host} {port} {trust}"));
        }
        check("WaitsForTheServer", dir, labCheckCommand("--timeout", "8", "--client",
                compiled("WaitsForTheServer") + " {host} {port} {trust}"));
        // Programs that say the right words without doing the work: the check must see the work on the wire.
        check("NeverConnects", dir, labCheckCommand("--client", "sh -c 'echo \"error: certificate not trusted\" >&2;"
                + " exit 1' {host} {port} {trust}"));
        check("ClosesBeforeItsClientHello", dir, labCheckCommand("--client", "bash -c 'exec 3<>/dev/tcp/$0/$1;"
                + " echo \"error: certificate not trusted\" >&2; exit 1' {host} {port} {trust}"));
        // A correct client whose JVM and launcher talk on stderr too: only the client's own line is its message.
        check("JvmNotes", dir, labCheckCommand("--client", "bash -c 'echo \"[jbang] Building jar...\" >&2;"
                + " echo \"WARNING: A terminally deprecated method in sun.misc.Unsafe has been called\" >&2;"
                + " echo \"OpenJDK 64-Bit Server VM warning: Options -Xverify:none are deprecated\" >&2;"
                + " exec \"$@\"' notes " + compiled("TlsEchoClient") + " {host} {port} {trust}"));
        if (Peers.onPath("python3")) {
            check("Python", dir, labCheckCommand("--client", "python3 " + quote(Lab.ROOT.resolve(
                    "tests/peers/student_client.py")) + " {host} {port} {trust}"));
        }
        // A JDK whose security policy leaves TLS 1.0 and 1.1 unusable, however the check edits its disabled list:
        // their cipher suites are disabled too. The lines that need them can only be skipped.
        Path noTls10 = dir.resolve("no-tls10.security");
        Files.writeString(noTls10, "jdk.tls.disabledAlgorithms=SSLv3, TLSv1, TLSv1.1, RC4, DES, 3DES_EDE_CBC, anon,"
                + " NULL, ECDH, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA\n");
        List<String> withoutTls10 = labCheckCommand("--json", dir.resolve("no-tls10.json").toString(), "--server",
                compiled("TlsEchoServer") + " {port}",
                "--client", compiled("TlsEchoClient") + " {host} {port} {trust}");
        withoutTls10.add(1, "-Djava.security.properties=" + noTls10);
        check("no TLS 1.0", dir, withoutTls10);
        checks.put("class loop", pool.submit(LabCheckTest::gradeAClassWithTheReadmesLoop));
        for (String copy : List.of("OldVersions", "HandshakeOnAcceptThread", "OneClientAtATime", "ExtraBytes")) {
            check(copy, dir, labCheckCommand("--server", compiled(copy) + " {port}"));
        }
        check("no IP address", dir.resolve("no-ip"), labCheckCommand("--server",
                compiled("TlsEchoServer") + " {port}"));
    }

    @AfterAll static void stopThePool() {
        pool.shutdownNow();
    }

    /**
     * Copies of the worked solutions, each with one mistake students make, by exact replacement of the solution's
     * text (the test fails if that text is gone). Each copy's class is renamed after the mistake, so that one javac
     * run compiles them all; their messages still say "TlsEchoClient", as the students' would.
     */
    static List<String> brokenCopies(Path src) throws IOException {
        String socketSetUp = "            parameters.setEndpointIdentificationAlgorithm(\"HTTPS\");";
        String refusal = "            fail(host + \":\" + port + \": \" + tlsProblem(e, trustFile, host));\n";
        String dates = "((X509Certificate) socket.getSession().getPeerCertificates()[0]).checkValidity();";
        String loopEnd = "                System.out.println(\"echo: \" + echo);   // exactly what came back\n            }\n";
        String context = "            SSLContext context = serverContext();";
        String versions = "listener.setEnabledProtocols(new String[] {\"TLSv1.3\", \"TLSv1.2\"";
        String accept = "                        SSLSocket client = (SSLSocket) listener.accept();\n";
        String readEcho = "String echo = fromServer.readLine();";
        String printEcho = "System.out.println(\"echo: \" + echo);";
        String echoWrite = "                out.write(buffer, 0, n);\n";
        return List.of(
                // The JDK's socket as it comes: chain checked, host name not (raw JSSE sockets check no name).
                copy(src, "TlsEchoClient", "NoHostNameCheck", socketSetUp, "            // (no host-name check)"),
                copy(src, "TlsEchoClient", "PrintsStackTrace", refusal, "            e.printStackTrace();\n"
                        + "            System.exit(1);\n"),
                copy(src, "TlsEchoClient", "SwallowsException", refusal, "            // nothing to see here\n"),
                copy(src, "TlsEchoClient", "NoDateCheck", dates, ""),
                copy(src, "TlsEchoClient", "NoReport", "            printCertificate(socket.getSession());", ""),
                // Against an honest echo server these two look right: the check's other server tells them apart.
                copy(src, "TlsEchoClient", "NeverReadsTheEcho", readEcho, "String echo = line;"),
                copy(src, "TlsEchoClient", "PrintsItsInputAsTheEcho", printEcho,
                        "System.out.println(\"echo: \" + line);"),
                // Waits for the server to hang up first, while the echo server waits for the client: both wait.
                copy(src, "TlsEchoClient", "WaitsForTheServer", loopEnd,
                        loopEnd + "            fromServer.readLine();\n"),
                // Re-enables the old versions for an old client, in the JDK's list and in the server's own.
                copy(src, "TlsEchoServer", "OldVersions", context, "            java.security.Security.setProperty("
                        + "\"jdk.tls.disabledAlgorithms\", \"SSLv3, RC4, DES, NULL, anon\");\n" + context,
                        versions, versions + ", \"TLSv1.1\", \"TLSv1\""),
                // The handshake on the accept thread: a silent client holds everyone up.
                copy(src, "TlsEchoServer", "HandshakeOnAcceptThread", accept, accept
                        + "                        client.startHandshake();\n"),
                copy(src, "TlsEchoServer", "OneClientAtATime", "workers.execute(() -> echo(client));",
                        "echo(client);"),
                // A friendly "ok" after each echo: every echo looks right, but the stream holds bytes never sent.
                copy(src, "TlsEchoServer", "ExtraBytes", echoWrite, echoWrite
                        + "                out.write(\"ok\\n\".getBytes());\n"));
    }

    /** examples/SOLUTION.java as src/NAME.java, with each text (which must be there exactly once) replaced. */
    static String copy(Path src, String solution, String name, String... textsAndReplacements) throws IOException {
        String source = Files.readString(EXAMPLES.resolve(solution + ".java"));
        for (int i = 0; i < textsAndReplacements.length; i += 2) {
            String text = textsAndReplacements[i];
            assertTrue(source.contains(text) && source.indexOf(text) == source.lastIndexOf(text),
                    () -> "examples/" + solution + ".java must hold this text exactly once: " + text);
            source = source.replace(text, textsAndReplacements[i + 1]);
        }
        Path file = src.resolve(name + ".java");
        Files.writeString(file, source.replace("public class " + solution, "public class " + name));
        return file.toString();
    }

    // ---- Full marks ----

    @Test void workedSolutionsScoreFullMarks() throws Exception {
        assertScore("worked solutions", 0, "14/14");
        try (var left = Files.list(dir.resolve("tmp"))) {
            assertEquals(List.of(), left.toList(), "the check deletes its keys and certificates");
        }
    }

    @Test void labsOwnServerAndClientScoreFullMarks() throws Exception {
        Lab.Result result = assertScore("lab's programs", 0, "14/14");
        // client.java compares the echo: against the server that answers otherwise it exits 8, and says what came.
        assertTrue(result.stdout().contains("(exit 0, the echo seen; and a server's other answer printed as it came)"),
                result::toString);
    }

    @Test void theRubricIsWrittenAsJsonForAnAutograder() throws Exception {
        assertScore("worked solutions", 0, "14/14");
        String json = Files.readString(dir.resolve("worked.json"));
        assertEquals(14, json.split("\"result\": \"passed\"", -1).length - 1, json);
        assertTrue(json.contains("{\"name\": \"server: TLS 1.3 handshake, certificate and host name verified\","
                + " \"result\": \"passed\", \"detail\": \"TLSv1.3, TLS_"), json);
        assertTrue(json.endsWith("\n  ],\n  \"score\": 14,\n  \"max\": 14,\n  \"skipped\": 0\n}\n"), json);
        if (Peers.onPath("python3")) {   // a real JSON parser agrees
            Lab.Result parsed = Lab.run(dir, Duration.ofMinutes(1), Map.of(), List.of("python3", "-c",
                    "import json, sys; r = json.load(open(sys.argv[1])); print(r['score'], r['max'], len(r['lines']),"
                    + " r['lines'][13]['name'])", dir.resolve("worked.json").toString()));
            assertEquals("14 14 14 client: refuses a TLS 1.0-only server\n", parsed.stdout(), parsed::toString);
        }
    }

    @Test void theReadmesLoopGradesAFolderOfSubmissionsIntoACsv() throws Exception {
        Lab.Result loop = checks.get("class loop").get();
        assertEquals(0, loop.exitCode(), loop::toString);
        Path course = dir.resolve("course");
        assertEquals("alice,14/14\nbob,13/14\n", Files.readString(course.resolve("scores.csv")), loop::toString);
        assertTrue(Files.readString(course.resolve("submissions/bob.json")).contains("\"score\": 13,\n  \"max\": 14,"));
        assertTrue(Files.readString(course.resolve("submissions/bob.txt")).contains("FAIL  " + EXPIRED));
    }

    /** The README's shell loop, word for word, over two students: the worked pair, and one whose client skips dates. */
    static Lab.Result gradeAClassWithTheReadmesLoop() throws IOException {
        Pattern readmeLoop = Pattern.compile("```bash\n(for student in submissions/.*?done > scores.csv\n)```",
                Pattern.DOTALL);
        Matcher loop = readmeLoop.matcher(Files.readString(Lab.ROOT.resolve("README.md")));
        assertTrue(loop.find(), "README.md: the loop over submissions/");
        Path course = dir.resolve("course");
        Files.createDirectories(course.resolve("lecturer"));
        Files.copy(Lab.ROOT.resolve("lecturer/LabCheck.java"), course.resolve("lecturer/LabCheck.java"));
        for (String student : List.of("alice", "bob")) {
            Path folder = Files.createDirectories(course.resolve("submissions").resolve(student).resolve("certs"));
            for (String file : List.of("server.p12", "server.pass", "server.crt")) {
                Files.copy(dir.resolve("certs").resolve(file), folder.resolve(file));
            }
            Files.copy(EXAMPLES.resolve("TlsEchoServer.java"), folder.resolveSibling("TlsEchoServer.java"));
            Files.copy(student.equals("alice") ? EXAMPLES.resolve("TlsEchoClient.java")
                    : dir.resolve("src/NoDateCheck.java"), folder.resolveSibling("TlsEchoClient.java"));
        }
        return Lab.run(course, Duration.ofMinutes(4), Map.of(), List.of("bash", "-c", loop.group(1)));
    }

    // ---- What the check cannot see here is skipped, never passed ----

    @Test void withoutTls10InThisJdkItsLinesAreSkippedAndTheScoreSaysSo() throws Exception {
        Lab.Result result = checks.get("no TLS 1.0").get();
        List<String> skipped = result.stdout().lines().filter(line -> line.startsWith("SKIP  ")).toList();
        assertEquals(List.of("SKIP  server: refuses TLS 1.0 and 1.1 (this JDK cannot offer TLS 1.1 here: a handshake"
                + " with itself failed (SSLHandshakeException): see jdk.tls.disabledAlgorithms in the JDK's"
                + " conf/security/java.security)", "SKIP  client: refuses a TLS 1.0-only server (this JDK cannot offer"
                + " TLS 1.0 here: a handshake with itself failed (SSLHandshakeException): see"
                + " jdk.tls.disabledAlgorithms in the JDK's conf/security/java.security)"), skipped, result::toString);
        assertEquals(12, result.stdout().lines().filter(line -> line.startsWith("PASS  ")).count(), result::toString);
        assertTrue(result.stdout().endsWith("\nscore: 12/12 (2 of 14 lines skipped: not checked here, see SKIP)\n"),
                result::toString);
        assertEquals(5, result.exitCode(), result::toString);
        String json = Files.readString(dir.resolve("no-tls10.json"));
        assertEquals(2, json.split("\"result\": \"skipped\"", -1).length - 1, json);
        assertTrue(json.endsWith("\"score\": 12,\n  \"max\": 12,\n  \"skipped\": 2\n}\n"), json);
    }

    // ---- Programs that say the right words without doing the work ----

    @Test void aClientThatNeverConnectsScoresNothing() throws Exception {
        Lab.Result result = assertScore("NeverConnects", 1, "0/6", CLIENT_ECHO, REPORT, UNTRUSTED, WRONG_NAME,
                EXPIRED, TLS10);
        assertEquals(4, result.stdout().lines().filter(line -> line.endsWith("(exit 1, but it never connected to the"
                + " check's server)")).count(), result::toString);
    }

    @Test void aClientThatClosesBeforeItsClientHelloGetsNoRefusalMark() throws Exception {
        Lab.Result result = assertScore("ClosesBeforeItsClientHello", 1, "0/6", CLIENT_ECHO, REPORT, UNTRUSTED,
                WRONG_NAME, EXPIRED, TLS10);
        assertEquals(4, result.stdout().lines().filter(line -> line.endsWith("(exit 1, but it connected and sent no"
                + " ClientHello)")).count(), result::toString);
    }

    @Test void aClientThatNeverReadsTheEchoLosesTheEchoMark() throws Exception {
        Lab.Result result = assertScore("NeverReadsTheEcho", 1, "5/6", CLIENT_ECHO);
        assertTrue(result.stdout().contains("(it did not print what the server sent back: "), result::toString);
    }

    @Test void aClientThatPrintsItsOwnInputAsTheEchoLosesTheEchoMark() throws Exception {
        Lab.Result result = assertScore("PrintsItsInputAsTheEcho", 1, "5/6", CLIENT_ECHO);
        assertTrue(result.stdout().contains("(it did not print what the server sent back: "), result::toString);
    }

    @Test void theJvmsAndJBangsNotesOnStderrAreNotTheClientsMessage() throws Exception {
        assertScore("JvmNotes", 0, "6/6");
    }

    @Test void aCorrectPythonClientLosesOnlyTheReportFieldsPythonCannotPrint() throws Exception {
        Peers.require("python3", "python3");
        Lab.Result result = assertScore("Python", 1, "5/6", REPORT);
        assertTrue(result.stdout().contains("(missing: public key, signature algorithm)"), result::toString);
    }

    // ---- Broken clients ----

    @Test void clientWithoutTheHostNameCheckLosesOnlyThatMark() throws Exception {
        assertScore("NoHostNameCheck", 1, "5/6", WRONG_NAME);
    }

    @Test void clientThatPrintsAStackTraceLosesEveryRefusal() throws Exception {
        Lab.Result result = assertScore("PrintsStackTrace", 1, "2/6", REFUSALS.toArray(String[]::new));
        assertTrue(result.stdout().contains("(exit 1, with a stack trace)"), result::toString);
    }

    @Test void clientThatSwallowsTheExceptionLosesEveryRefusal() throws Exception {
        Lab.Result result = assertScore("SwallowsException", 1, "2/6", REFUSALS.toArray(String[]::new));
        assertTrue(result.stdout().contains("(exit 0: it did not refuse)"), result::toString);
    }

    @Test void clientThatTrustsAnExpiredCertificateLosesOnlyThatMark() throws Exception {
        assertScore("NoDateCheck", 1, "5/6", EXPIRED);
    }

    @Test void clientWithoutTheReportLosesOnlyThatMark() throws Exception {
        Lab.Result result = assertScore("NoReport", 1, "5/6", REPORT);
        assertTrue(result.stdout().contains("(missing: subject, alternative names, not before, not after, serial"
                + " number, public key, signature algorithm, SHA-256 fingerprint, TLS version, cipher suite)"),
                result::toString);
    }

    @Test void clientThatHangsIsStoppedAndLosesTheEchoMark() throws Exception {
        Lab.Result result = assertScore("WaitsForTheServer", 1, "5/6", CLIENT_ECHO);
        assertTrue(result.stdout().contains("(hung: still running after 8 s)"), result::toString);
        assertNoProcessRuns("WaitsForTheServer");
    }

    // ---- Broken servers ----

    @Test void serverThatAcceptsOldVersionsLosesOnlyThatMark() throws Exception {
        Lab.Result result = assertScore("OldVersions", 1, "7/8", OLD_VERSIONS);
        assertTrue(result.stdout().contains("(it agreed to TLSv1.1)"), result::toString);
    }

    @Test void serverThatHandshakesOnTheAcceptThreadLosesTheSilentClientMark() throws Exception {
        // Its accept() loop logs the plaintext client's failed handshake and goes on; a silent client stops it.
        assertScore("HandshakeOnAcceptThread", 1, "7/8", SILENT);
    }

    @Test void serverThatServesOneClientAtATimeLosesTheConcurrencyMarks() throws Exception {
        assertScore("OneClientAtATime", 1, "6/8", SILENT, AT_ONCE);
        assertNoProcessRuns("OneClientAtATime");
    }

    @Test void serverThatSendsBytesAfterItsEchoLosesTheByteExactMark() throws Exception {
        Lab.Result result = assertScore("ExtraBytes", 1, "7/8", BYTE_EXACT);
        // It sends its own bytes after every write of an echo, so they show inside the first message already.
        assertTrue(result.stdout().lines().anyMatch(line -> line.startsWith("FAIL  " + BYTE_EXACT)
                && line.endsWith(" came back changed)")), result::toString);
    }

    @Test void serverWhoseCertificateLacksTheIpAddressLosesOnlyThatMark() throws Exception {
        Lab.Result result = assertScore("no IP address", 1, "7/8", CERTIFICATE);
        assertTrue(result.stdout().contains("(CN=localhost; DNS:localhost)"), result::toString);
    }

    // ---- Programs that do not start, usage ----

    @Test void aServerThatNeverListensIsExitStatus3() {
        // The worked server exits at once in a folder without certs/.
        Lab.Result result = Lab.run(dir.resolve("no-certs"), Duration.ofMinutes(1), Map.of(),
                labCheckCommand("--trust", dir.resolve("certs/server.crt").toString(), "--server",
                        compiled("TlsEchoServer") + " {port}"));
        assertEquals(3, result.exitCode(), result::toString);
        assertEquals(8, result.stdout().lines().filter(line -> line.startsWith("FAIL  ") && line.endsWith(" (not run)"))
                .count(), result::toString);
        assertTrue(result.stderr().startsWith("LabCheck: the server did not start: it exited with status 1, its last"
                + " line: \"TlsEchoServer: certs/server.pass not found: run ./certgen.sh first, in this folder.\".\n"),
                result::toString);
    }

    @Test void aClientCommandThatDoesNotExistIsExitStatus3() {
        Lab.Result result = Lab.run(dir, Duration.ofMinutes(1), Map.of(),
                labCheckCommand("--client", "no-such-program-here {host} {port} {trust}"));
        assertEquals(3, result.exitCode(), result::toString);
        assertEquals("LabCheck: the client did not start: cannot run no-such-program-here: no such command (or not"
                + " executable).\nCheck the --client command: it runs in this folder, without a shell.\n",
                result.stderr());
        assertTrue(result.stdout().endsWith(" (not run)\nscore: 0/6\n"), result::toString);
    }

    @Test void usageErrorsAreTwoLinesAndExitStatus2() {
        List<List<String>> usages = List.of(List.of(), List.of("--server", "java Server.java"),
                List.of("--client", "java Client.java {host} {port}"),
                List.of("--timeout", "soon", "--server", "x {port}"),
                List.of("--server", "'x {port}"), List.of("--trust", dir.resolve("nothing.crt").toString(), "--server",
                        "x {port}"), List.of("--bogus"));
        for (List<String> args : usages) {
            Lab.Result result = Lab.run(dir, Duration.ofMinutes(1), Map.of(),
                    labCheckCommand(args.toArray(String[]::new)));
            assertEquals(2, result.exitCode(), () -> args + "\n" + result);
            assertEquals(2, result.stderr().lines().count(), () -> args + "\n" + result);
            assertTrue(result.stderr().startsWith("LabCheck: "), () -> args + "\n" + result);
            assertEquals("", result.stdout(), () -> args + "\n" + result);
        }
    }

    @Test void helpRunsWithJBangTooAndGivesTheReadmesTemplates() throws IOException {
        Lab.Result help = Lab.jbang(dir, Duration.ofMinutes(3), Lab.ROOT.resolve("lecturer/LabCheck.java").toString(),
                "--help");
        assertEquals(0, help.exitCode(), help::toString);
        String readme = Files.readString(Lab.ROOT.resolve("README.md"));
        for (String template : TEMPLATES) {
            assertTrue(help.stdout().contains(template), () -> template + "\n" + help);
            assertTrue(readme.contains(template), () -> "README.md: " + template);
        }
    }

    /** Every option --help lists and every exit status it gives, the README's lab-check section gives too. */
    @Test void helpAndTheReadmeAgreeOnOptionsAndExitStatuses() throws Exception {
        Lab.Result help = Lab.run(dir, Duration.ofMinutes(2), Map.of(), labCheckCommand("--help"));
        assertEquals(0, help.exitCode(), help::toString);
        String readme = Files.readString(Lab.ROOT.resolve("README.md")).replaceAll("\\s+", " ");
        List<String> options = Pattern.compile("^  (--[a-z-]+ [A-Z]+)", Pattern.MULTILINE)
                .matcher(help.stdout()).results().map(match -> match.group(1)).toList();
        assertEquals(6, options.size(), help::toString);
        for (String option : options) assertTrue(readme.contains("`" + option + "`"), "README.md lacks " + option);
        String statuses = help.stdout().substring(help.stdout().indexOf("Exit status:")).replaceAll("\\s+", " ");
        Matcher status = Pattern.compile("(\\d) (all checks passed|some failed|usage error|a program did not start"
                + "|the check itself could not run|none failed but some were skipped)").matcher(statuses);
        List<String> told = status.results().map(match -> match.group()).toList();
        assertEquals(6, told.size(), help::toString);
        for (String one : told) assertTrue(readme.contains(one), "README.md lacks: " + one);
    }

    // ---- Helpers ----

    /** Asserts the check's exit status, its closing score line and exactly which checks failed, in rubric order. */
    static Lab.Result assertScore(String check, int exit, String score, String... failing) throws Exception {
        Lab.Result result = checks.get(check).get();
        List<String> rubric = result.stdout().lines().filter(line -> line.startsWith("PASS  ")
                || line.startsWith("FAIL  ")).toList();
        List<String> failed = rubric.stream().filter(line -> line.startsWith("FAIL  ")).toList();
        assertEquals(failing.length, failed.size(), result::toString);
        for (int i = 0; i < failing.length; i++) {
            assertTrue(failed.get(i).startsWith("FAIL  " + failing[i]), "expected " + failing[i] + "\n" + result);
        }
        assertTrue(result.stdout().endsWith("\nscore: " + score + "\n"), result::toString);
        assertEquals(Integer.parseInt(score.split("/")[1]), rubric.size(), result::toString);
        assertEquals(exit, result.exitCode(), result::toString);
        assertFalse(result.all().contains("\tat ") || result.all().contains("Exception in thread"), result::toString);
        return result;
    }

    /** "--option 'value'" as the shell passes it: two arguments, without the quotes. */
    static List<String> asArguments(String template) {
        int space = template.indexOf(' ');
        return List.of(template.substring(0, space), template.substring(space + 2, template.length() - 1));
    }

    static void assertNoProcessRuns(String argument) {
        List<String> running = ProcessHandle.allProcesses().map(process -> process.info().commandLine().orElse(""))
                .filter(commandLine -> commandLine.contains(argument)).toList();
        assertEquals(List.of(), running, "the check stops the programs it started");
    }

    static void check(String name, Path in, List<String> command) {
        checks.put(name, pool.submit(() -> Lab.run(in, Duration.ofMinutes(3), Map.of(), command)));
    }

    static Lab.Result labCheck(Path in, String... args) {
        return Lab.run(in, Duration.ofMinutes(3), Map.of(), labCheckCommand(args));
    }

    /** The compiled check, with a generous --timeout (the default, 30 s) unless one is given: the machine is shared. */
    static List<String> labCheckCommand(String... args) {
        List<String> command = new ArrayList<>(List.of(JAVA, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
                classes.toString(), "LabCheck"));
        if (!List.of(args).contains("--timeout")) command.addAll(List.of("--timeout", "60"));
        command.addAll(List.of(args));
        return command;
    }

    /** A --server or --client command that runs a compiled copy, its words quoted for the check's splitting. */
    static String compiled(String className) {
        return quote(JAVA) + " " + FAST + " -cp " + quote(classes) + " " + className;
    }

    static String quote(Object... words) {
        return Stream.of(words).map(word -> "'" + word + "'").collect(Collectors.joining(" "));
    }
}
