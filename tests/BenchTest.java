import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The benchmark must not rot: its quick comparison runs end to end, as in CI. Speed is never asserted here (a shared
 * machine makes timings noise); what is asserted is that every figure was measured and every echoed byte checked.
 */
class BenchTest {
    static final List<String> FIGURES = List.of(
            "Handshakes/s, 8 connectors (vs JSSE)",
            "Handshakes/s, 8 connectors (vs Python)",
            "Echo round trips/s, 256 clients",
            "Bulk echo MB/s, 1 connection",
            "RSS MiB, 100 idle clients",
            "RSS MiB, idle",
            "Start to listening s",
            "Start to first echo s",
            "Client run s, warm (vs plain JSSE client)",
            "Client run s, warm (vs Python client)");

    /** A fair comparison: each reference, like our server, answers without waiting for Nagle's algorithm. */
    @ParameterizedTest @ValueSource(strings = {"RefJsseServer.java", "ref_python_server.py"})
    void eachReferenceSetsTcpNoDelayOnWhatItAccepts(String reference, @TempDir Path dir) throws Exception {
        Lab.certs(dir);
        List<String> command = reference.endsWith(".py")
                ? List.of("python3", Lab.ROOT.resolve("bench").resolve(reference).toString(), "--port", "0")
                : Lab.withLauncher(Lab.ROOT.resolve("bench").resolve(reference).toString(), "--port", "0");
        try (var server = new Lab.Background(dir, Map.of(), command)) {
            Matcher banner = server.await("Listening on 127\\.0\\.0\\.1:(\\d+)", Duration.ofMinutes(3));
            int port = Integer.parseInt(banner.group(1));
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
                server.await("^First client: TCP_NODELAY=true$", Duration.ofSeconds(20));
            }
        }
    }

    @Test void quickComparisonMeasuresEveryFigureWithVerifiedEchoes() {
        Lab.Result result = Lab.jbang(Lab.ROOT, Duration.ofSeconds(180), "bench/compare.java", "--quick");

        assertEquals(0, result.exitCode(), result::toString);
        String out = result.stdout();
        for (String figure : FIGURES) {
            // A measured row has a number for ours and for the reference; "n/a" means a figure was not measured.
            String row = out.lines().filter(line -> line.startsWith(figure)).findFirst()
                    .orElseThrow(() -> new AssertionError("no row '" + figure + "' in the table:\n" + out));
            assertTrue(row.matches(".*\\d.*\\d.*") && !row.contains("n/a"), "figure not measured: " + row + "\n" + out);
        }
        Matcher check = Pattern.compile("Echo check: (\\d+) bytes echoed and verified byte for byte in (\\d+) runs; "
                + "0 mismatches, 0 resumed sessions, 0 errors").matcher(out);
        assertTrue(check.find(), "no clean echo check line:\n" + out);
        assertTrue(Long.parseLong(check.group(1)) > 0, check.group());
        // One run per server and figure: handshakes against three servers; echo, bulk and start-up against two.
        assertEquals(9, Integer.parseInt(check.group(2)), out);
        assertTrue(out.lines().filter(line -> line.startsWith("RESULT "))
                .allMatch(line -> line.contains(" errors=0 mismatches=0 resumed=0 ")), "a run had errors:\n" + out);
        // Three measured rounds of the three clients, each checked by compare.java: exit 0, the echo, nothing else.
        assertEquals(9, out.lines().filter(line -> line.matches("CLIENT client=(ours|jsse|python) wall_s=.*")).count(),
                out);
    }
}
