import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Small certificate helpers shared by server.java and client.java: fingerprints, SAN lists, reading PEM files. */
final class Certificates {
    private Certificates() {}

    /** SHA-256 of the DER encoding in uppercase colon-hex, the form keytool and openssl print. */
    static String sha256Fingerprint(X509Certificate cert) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("every JDK has SHA-256 and can encode a parsed certificate", e);
        }
    }

    /** The subject alternative names with their types, e.g. "DNS:localhost", "IP:127.0.0.1". */
    static List<String> subjectAltNames(X509Certificate cert) {
        List<String> names = new ArrayList<>();
        try {
            if (cert.getSubjectAlternativeNames() == null) return names;
            for (List<?> entry : cert.getSubjectAlternativeNames()) {
                names.add(sanType((Integer) entry.get(0)) + ":" + entry.get(1));
            }
        } catch (CertificateParsingException e) {
            names.add("(unreadable: " + e.getMessage() + ")");
        }
        return names;
    }

    /** Every certificate in a PEM (or DER) file; an empty list when it holds none. */
    static List<X509Certificate> readCertificates(Path file) throws IOException, CertificateException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certs = new ArrayList<>();
            for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certs.add((X509Certificate) cert);
            }
            return certs;
        }
    }

    private static String sanType(int type) {
        return switch (type) {
            case 0 -> "otherName";
            case 1 -> "email";
            case 2 -> "DNS";
            case 4 -> "DirName";
            case 6 -> "URI";
            case 7 -> "IP";
            case 8 -> "RegisteredID";
            default -> "type" + type;
        };
    }
}
