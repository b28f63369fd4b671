import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** certgen.sh, black-box: real keytool and openssl read what it wrote. */
class CertgenTest {
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);

    /** One default run (EC, no options) shared by the tests that only read its output: keytool is slow to start. */
    @TempDir static Path shared;
    private static Path certs;
    private static Lab.Result defaultRun;

    @BeforeAll static void makeDefaultSet() {
        defaultRun = Lab.certgen(shared);
        assertEquals(0, defaultRun.exitCode(), defaultRun::toString);
        certs = shared.resolve("certs");
    }

    @Test void keystoreOpensWithThePasswordFromItsFile() throws Exception {
        Lab.Result list = tool(shared, "keytool", "-list", "-v", "-keystore", "certs/server.p12",
                "-storepass:file", "certs/server.pass");
        assertEquals(0, list.exitCode(), list::toString);
        assertTrue(list.stdout().contains("Alias name: server"), list::toString);
        assertTrue(list.stdout().contains("PrivateKeyEntry"), list::toString);
        assertTrue(list.stdout().contains("Keystore type: PKCS12"), list::toString);
        assertTrue(list.stdout().contains("256-bit EC (secp256r1) key"), list::toString);
        assertTrue(list.stdout().contains("Signature algorithm name: SHA256withECDSA"), list::toString);
    }

    @Test void defaultKeyIsEcP256SignedWithSha256() throws Exception {
        KeyStore keyStore = keyStore(certs);
        var key = keyStore.getKey("server", password(certs));
        assertEquals("EC", key.getAlgorithm());
        assertEquals(256, ((ECKey) key).getParams().getCurve().getField().getFieldSize());
        assertEquals("SHA256withECDSA", serverCert(keyStore).getSigAlgName());
    }

    @Test void defaultNamesAreLocalhostAndBothLoopbackAddresses() throws Exception {
        X509Certificate cert = pem(certs);
        assertEquals(List.of("DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1"), sans(cert));
        assertEquals("CN=localhost", cert.getSubjectX500Principal().getName());

        Lab.Result openssl = tool(shared, "openssl", "x509", "-in", "certs/server.crt", "-noout", "-ext", "subjectAltName");
        assertEquals(0, openssl.exitCode(), openssl::toString);
        assertTrue(openssl.stdout().contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
                openssl::toString);
    }

    @Test void pemCertificateIsTheKeystoresCertificate() throws Exception {
        assertArrayEquals(serverCert(keyStore(certs)).getEncoded(), pem(certs).getEncoded());
        assertTrue(Files.readString(certs.resolve("server.crt")).startsWith("-----BEGIN CERTIFICATE-----"));
    }

    @Test void printedFingerprintIsOpensslsAndTheCertificatesSha256() throws Exception {
        String printed = match(defaultRun.stdout(), "(?m)^SHA-256 fingerprint: ([0-9A-F:]{95})$").group(1);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(pem(certs).getEncoded());
        assertEquals(HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest), printed);

        Lab.Result openssl = tool(shared, "openssl", "x509", "-in", "certs/server.crt", "-noout", "-fingerprint", "-sha256");
        assertEquals(0, openssl.exitCode(), openssl::toString);
        assertEquals(printed, openssl.stdout().strip().replaceFirst("^(?i)sha256 Fingerprint=", ""));
    }

    @Test void summaryNamesTheFilesTheNamesTheExpiryAndTheNextStep() throws Exception {
        String out = defaultRun.stdout();
        for (String expected : List.of("DNS:localhost, IP:127.0.0.1, IP:::1", "certs/server.p12", "certs/server.pass",
                "certs/server.crt", "./jbang server.java")) {
            assertTrue(out.contains(expected), () -> "no '" + expected + "' in:\n" + out);
        }
        String notAfter = String.valueOf(pem(certs).getNotAfter().toInstant().atZone(ZoneOffset.UTC).getYear());
        assertTrue(match(out, "(?m)^Expires: +(.*)$").group(1).contains(notAfter), out);
        assertEquals("", defaultRun.stderr());
    }

    @Test void privateFilesAreOwnerOnlyAndThePasswordIsRandomAndNeverPrinted() throws Exception {
        assertEquals("rw-------", permissions(certs.resolve("server.p12")));
        assertEquals("rw-------", permissions(certs.resolve("server.pass")));
        assertEquals("rw-r--r--", permissions(certs.resolve("server.crt")));

        String password = new String(password(certs));
        assertTrue(password.matches("[A-Za-z0-9]{24,}"), "weak or odd password: " + password.length() + " characters");
        assertFalse(defaultRun.all().contains(password), "the password was printed");
        assertFalse(defaultRun.all().contains("PRIVATE KEY"));
    }

    @Test void passwordsReachKeytoolOnlyThroughFilesOrTheEnvironment() throws IOException {
        String script = Files.readString(Lab.ROOT.resolve("certgen.sh"));
        assertFalse(Pattern.compile("-(store|key)pass(?!:(file|env))").matcher(script).find(),
                "certgen.sh passes a password to keytool on a command line");
    }

    @Test void namesAreAddedAsDnsOrIpTheFirstIsTheCommonNameAndDaysSetTheValidity(@TempDir Path dir) throws Exception {
        Path out = Lab.certs(dir, "--name", "lab.example.org", "--name", "10.1.2.3", "--name", "fe80::1",
                "--name", "localhost", "--days", "30");
        X509Certificate cert = pem(out);
        assertEquals(List.of("DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1", "DNS:lab.example.org",
                "IP:10.1.2.3", "IP:fe80:0:0:0:0:0:0:1"), sans(cert));
        assertEquals("CN=lab.example.org", cert.getSubjectX500Principal().getName());
        assertEquals(Duration.ofDays(30), Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()));
        cert.checkValidity();
    }

    @Test void rsaGivesAnRsa2048KeySignedWithSha256(@TempDir Path dir) throws Exception {
        Path out = Lab.certs(dir, "--rsa");
        KeyStore keyStore = keyStore(out);
        var key = keyStore.getKey("server", password(out));
        assertEquals("RSA", key.getAlgorithm());
        assertEquals(2048, ((RSAKey) key).getModulus().bitLength());
        assertEquals("SHA256withRSA", serverCert(keyStore).getSigAlgName());
        assertEquals(sans(pem(certs)), sans(pem(out)));
    }

    @Test void rsaTakesItsKeySize(@TempDir Path dir) throws Exception {
        Path out = Lab.certs(dir, "--rsa", "3072", "--days", "7");
        assertEquals(3072, ((RSAKey) pem(out).getPublicKey()).getModulus().bitLength());
    }

    @Test void startCanMakeExpiredOrNotYetValidCertificates(@TempDir Path dir) throws Exception {
        X509Certificate expired = pem(Lab.certs(Files.createDirectories(dir.resolve("expired")), "--start", "-30d", "--days", "1"));
        assertThrows(CertificateExpiredException.class, expired::checkValidity);
        assertTrue(expired.getNotAfter().toInstant().isBefore(Instant.now().minus(Duration.ofDays(28))));

        X509Certificate future = pem(Lab.certs(Files.createDirectories(dir.resolve("future")), "--start", "+10d"));
        assertThrows(CertificateNotYetValidException.class, future::checkValidity);
    }

    @Test void refusesToOverwriteWithoutForce(@TempDir Path dir) throws Exception {
        Path out = Lab.certs(dir);
        byte[] before = Files.readAllBytes(out.resolve("server.p12"));

        Lab.Result again = Lab.certgen(dir, "--out", out.toString());
        assertEquals(1, again.exitCode(), again::toString);
        assertTrue(again.stderr().contains("server.p12") && again.stderr().contains("--force"), again::toString);
        assertArrayEquals(before, Files.readAllBytes(out.resolve("server.p12")));

        // Any one file of the set is enough to refuse, and the message names it.
        Files.delete(out.resolve("server.p12"));
        Files.delete(out.resolve("server.pass"));
        Lab.Result crtOnly = Lab.certgen(dir, "--out", out.toString());
        assertEquals(1, crtOnly.exitCode(), crtOnly::toString);
        assertTrue(crtOnly.stderr().contains("server.crt"), crtOnly::toString);
        assertFalse(Files.exists(out.resolve("server.p12")));
    }

    @Test void forceReplacesTheWholeSet(@TempDir Path dir) throws Exception {
        Path out = Lab.certs(dir);
        X509Certificate before = pem(out);
        String passwordBefore = new String(password(out));
        Lab.certs(dir, "--force");
        assertNotEquals(before, pem(out));
        assertNotEquals(passwordBefore, new String(password(out)), "two runs made the same password");
        assertArrayEquals(serverCert(keyStore(out)).getEncoded(), pem(out).getEncoded());
        assertEquals("rw-------", permissions(out.resolve("server.p12")));
        assertEquals("rw-------", permissions(out.resolve("server.pass")));
    }

    @Test void aFailedRunLeavesNothingBehind(@TempDir Path dir) throws Exception {
        // Looks like an IPv6 literal to certgen.sh, so only keytool rejects it: a failure half-way through.
        Lab.Result result = Lab.certgen(dir, "--out", "certs", "--name", "a:b");
        assertEquals(1, result.exitCode(), result::toString);
        assertTrue(result.stderr().contains("keytool"), result::toString);
        try (var left = Files.list(dir.resolve("certs"))) {
            assertEquals(List.of(), left.toList());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--bogus", "--days 0", "--days -3", "--days soon", "--days", "--name", "--out",
            "--out --force", "--rsa 1024", "--start yesterday", "--name a,b", "--name x=y", "extra"})
    void badOptionsAreUsageErrors(String args, @TempDir Path dir) throws IOException {
        Lab.Result result = Lab.certgen(dir, args.split(" "));
        assertEquals(2, result.exitCode(), result::toString);
        assertEquals("", result.stdout());
        assertEquals(1, result.stderr().lines().count(), result::toString);
        assertTrue(result.stderr().contains("see --help"), result::toString);
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "a usage error wrote files");
        }
    }

    @Test void helpExplainsTheOptionsAndHowToPractiseCertificateErrors(@TempDir Path dir) {
        Lab.Result help = Lab.certgen(dir, "--help");
        assertEquals(0, help.exitCode(), help::toString);
        for (String expected : List.of("--out", "--name", "--days", "--start", "--rsa", "--force", "-30d", "expired",
                "not yet valid", "server.pass")) {
            assertTrue(help.stdout().contains(expected), () -> "no '" + expected + "' in --help:\n" + help.stdout());
        }
    }

    @Test void usesKeytoolFromJavaHomeAndSaysSoWhenThereIsNone(@TempDir Path dir) throws IOException {
        String pathWithoutJdk = Lab.pathWithout("keytool", "java");
        Path javaHome = Path.of(System.getProperty("java.home"));

        Lab.Result fromJavaHome = certgen(dir, Map.of("PATH", pathWithoutJdk, "JAVA_HOME", javaHome.toString()));
        assertEquals(0, fromJavaHome.exitCode(), fromJavaHome::toString);

        Lab.Result none = certgen(dir, Map.of("PATH", pathWithoutJdk, "JAVA_HOME", ""), "--out", "other");
        assertEquals(1, none.exitCode(), none::toString);
        assertEquals(1, none.stderr().lines().count(), none::toString);
        assertTrue(none.stderr().contains("keytool") && none.stderr().contains("JAVA_HOME"), none::toString);
    }

    @Test void shellcheckFindsNothing() {
        Lab.Result which = Lab.run(Lab.ROOT, TOOL_TIMEOUT, Map.of(), List.of("bash", "-c", "command -v shellcheck"));
        Assumptions.assumeTrue(which.exitCode() == 0, "shellcheck is not installed (CI installs it): skipped");
        Lab.Result shellcheck = tool(Lab.ROOT, "shellcheck", "certgen.sh");
        assertEquals(0, shellcheck.exitCode(), shellcheck::toString);
    }

    private static Lab.Result certgen(Path dir, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("/bin/bash", Lab.ROOT.resolve("certgen.sh").toString()));
        command.addAll(List.of(args));
        return Lab.run(dir, TOOL_TIMEOUT, env, command);
    }

    private static Lab.Result tool(Path dir, String... command) {
        return Lab.run(dir, TOOL_TIMEOUT, Map.of(), List.of(command));
    }

    private static char[] password(Path certs) throws IOException {
        return Files.readString(certs.resolve("server.pass")).strip().toCharArray();
    }

    private static KeyStore keyStore(Path certs) throws Exception {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(certs.resolve("server.p12"))) {
            keyStore.load(in, password(certs));
        }
        assertEquals(List.of("server"), Collections.list(keyStore.aliases()));
        return keyStore;
    }

    private static X509Certificate serverCert(KeyStore keyStore) throws Exception {
        return (X509Certificate) keyStore.getCertificate("server");
    }

    private static X509Certificate pem(Path certs) throws Exception {
        try (InputStream in = Files.newInputStream(certs.resolve("server.crt"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** "DNS:name" / "IP:address" in the certificate's order (Java writes IPv6 addresses in full). */
    private static List<String> sans(X509Certificate cert) throws Exception {
        List<String> names = new ArrayList<>();
        for (List<?> entry : cert.getSubjectAlternativeNames()) {
            names.add(((Integer) entry.get(0) == 2 ? "DNS:" : "IP:") + entry.get(1));
        }
        return names;
    }

    private static String permissions(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    private static Matcher match(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), () -> "no /" + regex + "/ in:\n" + text);
        return m;
    }
}
