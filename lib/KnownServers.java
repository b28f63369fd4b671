import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;

/**
 * The client's own trust file, like ssh's known_hosts: certificates the user accepted at the "Trust this certificate?"
 * prompt, one PEM block per server, each under a comment line naming it:
 * <pre>
 * # localhost:8443 SHA-256 AB:CD:... added 2026-11-29T20:30:00Z
 * -----BEGIN CERTIFICATE-----
 * </pre>
 * Kept apart from the JDK's cacerts: trusting a lab server must not make it trusted by every Java program.
 */
final class KnownServers {
    /** Under $HOME, as a shell user expects (the JVM's user.home comes from the account and ignores $HOME). */
    static final Path DEFAULT_FILE = Path.of(System.getenv().getOrDefault("HOME", System.getProperty("user.home")),
            ".tls-echo-lab", "known_servers.pem");

    final Path file;

    KnownServers(Path file) {
        this.file = file;
    }

    /** "host:port", with brackets around an IPv6 address so the port stays readable. */
    static String key(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The certificate stored for this host:port, or null when there is none (or no file yet). */
    X509Certificate find(String key) throws TrustSource.Problem {
        try {
            return Files.exists(file) ? read(key) : null;
        } catch (IOException | CertificateException e) {
            throw new TrustSource.Problem("known-servers file " + file + " cannot be read: " + e.getMessage(),
                    "Fix or remove the entry for " + key + " in it, or use another file with --known-servers FILE.");
        }
    }

    private X509Certificate read(String key) throws IOException, CertificateException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("# " + key + " ")) continue;
            StringBuilder pem = new StringBuilder();
            for (int j = i + 1; j < lines.size() && !lines.get(j).startsWith("#"); j++) pem.append(lines.get(j)).append('\n');
            var certs = CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(pem.toString().getBytes(StandardCharsets.US_ASCII)));
            if (certs.size() != 1) throw new CertificateException("the entry for " + key + " in " + file + " holds no certificate");
            return (X509Certificate) certs.iterator().next();
        }
        return null;
    }

    /** Appends the certificate under its host:port; the folder and the file are made owner-only, as ssh does. */
    void add(String key, X509Certificate cert) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder);
            restrict(folder, "rwx------");
        }
        if (!Files.exists(file)) {
            try {
                Files.createFile(file);
            } catch (FileAlreadyExistsException raced) {
                // Another client run made it first: appending below is still right.
            }
            restrict(file, "rw-------");
        }
        String entry = "# " + key + " SHA-256 " + Certificates.sha256Fingerprint(cert)
                + " added " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n" + pem(cert);
        Files.writeString(file, entry, StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
    }

    static String pem(X509Certificate cert) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a certificate that was parsed can be encoded again", e);
        }
    }

    private static void restrict(Path path, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException notPosix) {
            // Windows: the file is in the user's profile folder, which other users cannot read by default.
        }
    }
}
