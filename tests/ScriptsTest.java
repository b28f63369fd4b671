import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What server.java and client.java promise as scripts: each stands alone, short usage errors, the same text on every JDK. */
class ScriptsTest {
    @TempDir static Path dir;
    static Path certs;

    @BeforeAll static void certificate() {
        certs = Lab.certs(dir);
    }

    /** A student copies one file anywhere (to hand it in, to a lab machine) and runs it there. */
    @Test void eachScriptRunsCopiedAloneIntoAnEmptyFolder() throws Exception {
        Path serverFolder = Files.createDirectories(dir.resolve("alone-server"));
        Path clientFolder = Files.createDirectories(dir.resolve("alone-client"));
        Files.copy(Lab.ROOT.resolve("server.java"), serverFolder.resolve("server.java"));
        Files.copy(Lab.ROOT.resolve("client.java"), clientFolder.resolve("client.java"));
        Files.copy(certs.resolve("server.crt"), clientFolder.resolve("server.crt"));
        assertEquals(List.of(serverFolder.resolve("server.java")), listing(serverFolder));
        try (var server = new Lab.Background(serverFolder, Map.of(), Lab.withLauncher("server.java", "--port", "0",
                "--keystore", certs.resolve("server.p12").toString()))) {
            String port = server.await("Listening on \\S+:(\\d+)", Duration.ofMinutes(3)).group(1);
            Lab.Result result = Lab.run(clientFolder, Duration.ofMinutes(3), Map.of("HOME", dir.toString()),
                    Lab.withLauncher("client.java", "--trust", "server.crt", "localhost", port, "--message", "alone"));
            assertEquals(0, result.exitCode(), result + "\n--- server:\n" + server.transcript());
            assertTrue(result.stdout().contains("trusting 1 certificate from server.crt"), result.toString());
            assertTrue(result.stdout().contains("echo: alone\n"), result.toString());
        }
        for (Path script : List.of(Lab.ROOT.resolve("server.java"), Lab.ROOT.resolve("client.java"))) {
            List<String> lines = Files.readAllLines(script);
            assertTrue(lines.stream().noneMatch(line -> line.startsWith("//SOURCES") || line.startsWith("//FILES")), script::toString);
            assertEquals(List.of("//DEPS info.picocli:picocli:4.7.7"), lines.stream().filter(l -> l.startsWith("//DEPS")).toList());
            assertTrue(lines.stream().allMatch(line -> line.length() <= 120), script + ": a line over 120 characters");
        }
        assertFalse(Files.exists(Lab.ROOT.resolve("lib")), "lib/ is gone: the scripts stand alone");
    }

    static List<Path> listing(Path folder) throws Exception {
        try (var files = Files.list(folder)) {
            return files.toList();
        }
    }

    /** A usage error is the error and where to look, not 40 lines of help: both scripts, as processes. */
    @Test void usageErrorsAreTwoLinesWithExitCode2() {
        Lab.Result client = Lab.jbang(dir, Duration.ofMinutes(3), Lab.ROOT.resolve("client.java").toString(), "localhost", "99999");
        assertEquals(2, client.exitCode(), client::toString);
        assertEquals("error: PORT must be 1-65535, not 99999\nTry './jbang client.java --help'.\n", client.stderr());
        Lab.Result server = Lab.jbang(dir, Duration.ofMinutes(3), Lab.ROOT.resolve("server.java").toString(), "--wrap", "sideways");
        assertEquals(2, server.exitCode(), server::toString);
        assertEquals(2, server.stderr().lines().count(), server::toString);
        assertTrue(server.stderr().startsWith("error: Invalid value for option '--wrap'"), server::toString);
        assertTrue(server.stderr().endsWith("\nTry './jbang server.java --help'.\n"), server::toString);
        assertEquals("", server.stdout());
    }

    /** The one place that reads a JDK message: JDK 17 writes the alert once, JDK 21 and later also put it in front. */
    @Test void theAlertNameIsReadTheSameFromEveryJdksWording() {
        for (String message : List.of("Received fatal alert: certificate_unknown",
                "(certificate_unknown) Received fatal alert: certificate_unknown")) {
            var e = new SSLHandshakeException(message);
            assertEquals("certificate_unknown", server.jdkFact(server.RECEIVED_ALERT, e), message);
            assertEquals("certificate_unknown", client.jdkFact(client.RECEIVED_ALERT, e), message);
        }
        assertEquals("TLSv1.2", server.jdkFact(server.OFFERED_VERSIONS, new SSLHandshakeException("(protocol_version) The "
                + "client supported protocol versions [TLSv1.2] are not accepted by server preferences [TLSv1.3]")));
        assertEquals("TLSv1", server.jdkFact(server.OFFERED_VERSIONS,
                new SSLHandshakeException("Client requested protocol TLSv1 is not enabled or supported in server context")));
        assertNull(client.jdkFact(client.RECEIVED_ALERT, new SSLHandshakeException("PKIX path building failed")));
    }

    /**
     * Piped input must never answer the trust prompt. Until JDK 21 there is no Console unless stdin and stdout are a
     * terminal; from JDK 22 there is one anyway, and only its isTerminal() tells. This JVM's stdin is not a terminal.
     */
    @Test void aRedirectedStdinIsNotATerminalOnAnyJdk() {
        assertFalse(client.isTerminal(null));
        assertFalse(client.isTerminal(System.console()), "the tests' stdin is not a terminal (console: " + System.console() + ")");
    }

    /** With two keys JSSE would choose one per client, and the banner could show the other: refused. */
    @Test void aKeystoreWithTwoKeysIsRefused() throws Exception {
        Path two = Files.createDirectories(dir.resolve("two"));
        Files.copy(certs.resolve("server.p12"), two.resolve("server.p12"));
        Files.copy(certs.resolve("server.pass"), two.resolve("server.pass"));
        TestCerts.keytool(two, "-genkeypair", "-keystore", "server.p12", "-storetype", "PKCS12", "-storepass:file",
                "server.pass", "-alias", "second", "-dname", "CN=second", "-keyalg", "EC", "-groupname", "secp256r1");
        Lab.Result result = ServerTest.runInProcess("--port", "0", "--keystore", two.resolve("server.p12").toString());
        ServerTest.assertFails(3, result, "holds 2 private keys", "exactly one key");
    }
}
