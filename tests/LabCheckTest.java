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
            SILENT = "server: serves a client while a silent one is connected";
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
                EXAMPLES.resolve("TlsEchoServer.java").toString()));
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
        check("worked solutions", dir, worked);
        checks.put("lab's programs", pool.submit(() -> {
            // Built once before the check starts them, so that the check times their start, not JBang's build. The
            // templates of the README, with the launcher's and the scripts' full paths: this is not the project folder.
            for (String script : List.of("server.java", "client.java")) {
                Lab.Result help = Lab.jbang(dir, Duration.ofMinutes(3), Lab.ROOT.resolve(script).toString(), "--help");
                assertEquals(0, help.exitCode(), help::toString);
            }
            return labCheck(dir, "--server", quote(Lab.ROOT.resolve("jbang"), Lab.ROOT.resolve("server.java"))
                    + " --port {port}", "--client", quote(Lab.ROOT.resolve("jbang"), Lab.ROOT.resolve("client.java"))
                    + " {host} {port} --trust {trust}");
        }));
        for (String copy : List.of("NoHostNameCheck", "PrintsStackTrace", "SwallowsException", "NoDateCheck",
                "NoReport")) {
            check(copy, dir, labCheckCommand("--client", compiled(copy) + " {host} {port} {trust}"));
        }
        check("WaitsForTheServer", dir, labCheckCommand("--timeout", "8", "--client",
                compiled("WaitsForTheServer") + " {host} {port} {trust}"));
        for (String copy : List.of("OldVersions", "HandshakeOnAcceptThread", "OneClientAtATime")) {
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
        String loopEnd = "                System.out.println(\"echo: \" + readable(echo));\n            }\n";
        String context = "        SSLContext context = serverContext();";
        String versions = "listener.setEnabledProtocols(new String[] {\"TLSv1.3\", \"TLSv1.2\"";
        String accept = "                SSLSocket client = (SSLSocket) listener.accept();\n";
        return List.of(
                // The JDK's socket as it comes: chain checked, host name not (raw JSSE sockets check no name).
                copy(src, "TlsEchoClient", "NoHostNameCheck", socketSetUp, "            // (no host-name check)"),
                copy(src, "TlsEchoClient", "PrintsStackTrace", refusal, "            e.printStackTrace();\n"
                        + "            System.exit(1);\n"),
                copy(src, "TlsEchoClient", "SwallowsException", refusal, "            // nothing to see here\n"),
                copy(src, "TlsEchoClient", "NoDateCheck", dates, ""),
                copy(src, "TlsEchoClient", "NoReport", "            printCertificate(socket.getSession());", ""),
                // Waits for the server to hang up first, while the echo server waits for the client: both wait.
                copy(src, "TlsEchoClient", "WaitsForTheServer", loopEnd,
                        loopEnd + "            fromServer.readLine();\n"),
                // Re-enables the old versions for an old client, in the JDK's list and in the server's own.
                copy(src, "TlsEchoServer", "OldVersions", context, "        java.security.Security.setProperty("
                        + "\"jdk.tls.disabledAlgorithms\", \"SSLv3, RC4, DES, NULL, anon\");\n" + context,
                        versions, versions + ", \"TLSv1.1\", \"TLSv1\""),
                // The handshake on the accept thread: a silent client holds everyone up, and its failure ends main.
                copy(src, "TlsEchoServer", "HandshakeOnAcceptThread", accept, accept
                        + "                client.startHandshake();\n"),
                copy(src, "TlsEchoServer", "OneClientAtATime", "new Thread(() -> echo(client)).start();",
                        "echo(client);"));
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
        assertScore("lab's programs", 0, "14/14");
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

    @Test void serverThatHandshakesOnTheAcceptThreadLosesTheSurvivalMarks() throws Exception {
        Lab.Result result = assertScore("HandshakeOnAcceptThread", 1, "6/8", PLAINTEXT, SILENT);
        assertTrue(result.stdout().lines().anyMatch(line -> line.startsWith("FAIL  " + PLAINTEXT)
                && line.endsWith("; then the server exited with status 1 after a stack trace)")), result::toString);
    }

    @Test void serverThatServesOneClientAtATimeLosesTheConcurrencyMarks() throws Exception {
        assertScore("OneClientAtATime", 1, "6/8", SILENT, AT_ONCE);
        assertNoProcessRuns("OneClientAtATime");
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
