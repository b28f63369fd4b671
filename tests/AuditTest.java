import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * testssl.sh, a widely used TLS audit, against our server started as a user would start it. The scan is bounded to
 * what applies to a TLS echo service (protocols, cipher categories, forward secrecy, server defaults and the
 * vulnerabilities that concern TLS 1.2/1.3 without HTTP), and run once; the tests read its CSV report.
 */
class AuditTest {
    /** testssl's severities from harmless to worst; WARN and FATAL mean a check could not run, which is no pass. */
    static final List<String> FAILING = List.of("MEDIUM", "HIGH", "CRITICAL", "WARN", "FATAL");

    record Finding(String id, String severity, String text) {
        @Override public String toString() { return severity + " " + id + ": " + text; }
    }

    static Peers.OurServer server;
    static Map<String, Finding> findings;
    static String transcript;
    static boolean selfSigned;

    @BeforeAll static void audit(@TempDir Path dir) throws Exception {
        String testssl = testssl();
        if (testssl == null) return;  // each test then reports itself skipped
        Path certs = Lab.certs(dir);
        X509Certificate cert = TestCerts.read(certs.resolve("server.crt"));
        selfSigned = cert.getIssuerX500Principal().equals(cert.getSubjectX500Principal());
        server = new Peers.OurServer(dir, certs);
        Path csv = dir.resolve("testssl.csv");
        Lab.Result r = Lab.run(dir, Duration.ofMinutes(5), Map.of(), List.of(testssl,
                "--quiet", "--color", "0", "--warnings", "off",  // no banner, no colour codes, never a prompt
                "--ip", "one", "--nodns", "min",                // the address given; no reverse DNS for loopback
                "--connect-timeout", "30", "--openssl-timeout", "30",  // a hung handshake ends the check, not the run
                // Trusts the lab certificate the way every client in the lab does, by its file, so the chain of
                // trust is really checked (against that file) rather than reported as "self signed" and excused.
                "--add-ca", certs.resolve("server.crt").toString(),
                "--protocols", "--std", "--fs", "--server-defaults",
                // The vulnerability checks that apply to TLS 1.2/1.3 without HTTP. Left out: Ticketbleed and BREACH
                // (HTTP only) and -4 (RC4: this OpenSSL has no RC4 to test with; the LOW category in --std covers
                // RC4 over raw sockets).
                "--heartbleed", "--ccs", "--robot", "--renegotiation", "--crime", "--poodle", "--tls-fallback",
                "--sweet32", "--freak", "--drown", "--logjam", "--beast", "--lucky13",
                "--csvfile", csv.toString(), "127.0.0.1:" + server.port));
        transcript = r.toString();
        findings = new LinkedHashMap<>();
        if (Files.exists(csv)) {
            for (String line : Files.readAllLines(csv)) {
                List<String> f = csvFields(line);
                if (f.size() < 5 || f.get(0).equals("id")) continue;  // the header
                findings.putIfAbsent(f.get(0), new Finding(f.get(0), f.get(3), f.get(4)));
            }
        }
        System.out.println("testssl findings of severity LOW and above (" + testssl + ", our server on port " + server.port + "):");
        findings.values().stream().filter(f -> !List.of("OK", "INFO", "DEBUG").contains(f.severity()))
                .forEach(f -> System.out.println("  " + f));
    }

    @AfterAll static void stopServer() {
        if (server != null) server.close();
    }

    @Test void onlyTls12AndTls13AreOffered() {
        for (String old : List.of("SSLv2", "SSLv3", "TLS1", "TLS1_1")) {
            assertTrue(finding(old).text().startsWith("not offered"), () -> finding(old).toString());
        }
        for (String current : List.of("TLS1_2", "TLS1_3")) {
            assertTrue(finding(current).text().startsWith("offered"), () -> finding(current).toString());
        }
    }

    @Test void noNullAnonymousExportRc4Or3desSuites() {
        // LOW is testssl's category of 64-bit and DES ciphers, RC2 and RC4; tested with raw sockets, so it does not
        // depend on what the local OpenSSL still supports.
        for (String category : List.of("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                "cipherlist_3DES_IDEA")) {
            assertEquals("not offered", finding(category).text(), () -> finding(category).toString());
        }
    }

    @Test void forwardSecrecyIsOffered() {
        // testssl 3.0 calls it PFS, 3.2 calls it FS.
        Finding fs = findings().containsKey("FS") ? finding("FS") : finding("PFS");
        assertEquals("offered", fs.text(), fs::toString);
        assertEquals("OK", fs.severity(), fs::toString);
    }

    @Test void noFindingOfMediumSeverityOrAbove() {
        List<Finding> bad = findings().values().stream()
                .filter(f -> FAILING.contains(f.severity()) && !expectedOfSelfSignedCertificate(f) && !resumptionRace(f))
                .collect(Collectors.toList());
        assertTrue(bad.isEmpty(), () -> "testssl findings of severity MEDIUM or above (or checks that could not run):\n  "
                + bad.stream().map(Finding::toString).collect(Collectors.joining("\n  ")));
    }

    /**
     * Accepted, and only for a self-signed certificate: revocation lists and OCSP responders are
     * published by the CA that issued a certificate, and a self-signed certificate has no issuer but itself, so
     * there is nothing to point to (testssl: cert_revocation "Neither CRL nor OCSP URI provided", HIGH). Revoking
     * the lab certificate means deleting the file the clients trust.
     */
    static boolean expectedOfSelfSignedCertificate(Finding f) {
        return selfSigned && f.id().equals("cert_revocation") && f.text().equals("Neither CRL nor OCSP URI provided");
    }

    /**
     * The one check that may not run, because of a race in testssl 3.0 itself: its resumption check saves the session
     * of an `openssl s_client </dev/null`, which quits as soon as the handshake is done, while a TLS 1.3 server sends
     * its session ticket just after it. Whether the ticket wins varies from run to run, so testssl reports "not
     * supported", "supported" or this WARN. Says nothing about security; InteropTest's opensslClientResumesItsSession
     * tests resumption properly, waiting for the ticket.
     */
    static boolean resumptionRace(Finding f) {
        return f.severity().equals("WARN") && f.id().startsWith("sessionresumption_")
                && f.text().equals("check failed because of connect problem");
    }

    static Map<String, Finding> findings() {
        assumeTrue(testssl() != null, "testssl.sh is not installed (Debian package testssl.sh; .ci/run installs it):"
                + " the audit did not run");
        assertNotNull(findings, "the audit did not run: see the failure of the class's set-up");
        assertTrue(findings.containsKey("TLS1_3"), () -> "testssl wrote no usable report:\n" + transcript);
        return findings;
    }

    static Finding finding(String id) {
        Finding f = findings().get(id);
        assertNotNull(f, () -> "testssl reported nothing for " + id + ":\n" + transcript);
        return f;
    }

    /** Debian installs testssl.sh as "testssl"; a copy from its Git repository is "testssl.sh". */
    static String testssl() {
        return Peers.onPath("testssl") ? "testssl" : Peers.onPath("testssl.sh") ? "testssl.sh" : null;
    }

    /** One line of testssl's CSV: every field in double quotes, a quote inside one doubled. */
    static List<String> csvFields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                field.append('"');
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }
}
