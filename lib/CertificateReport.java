import java.io.PrintWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** The client's readable certificate block (the lab's credit task): every field a student should be able to explain. */
final class CertificateReport {
    private CertificateReport() {}

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
    private static final String[] KEY_USAGES = {"digitalSignature", "nonRepudiation", "keyEncipherment",
        "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"};
    private static final Map<String, String> EXTENDED_KEY_USAGES = Map.of(
            "1.3.6.1.5.5.7.3.1", "serverAuth", "1.3.6.1.5.5.7.3.2", "clientAuth", "1.3.6.1.5.5.7.3.3", "codeSigning",
            "1.3.6.1.5.5.7.3.4", "emailProtection", "1.3.6.1.5.5.7.3.8", "timeStamping", "1.3.6.1.5.5.7.3.9", "OCSPSigning",
            "2.5.29.37.0", "anyExtendedKeyUsage");

    /** The server's certificate (chain[0]) in detail, then one line per chain member, as the server sent them. */
    static void print(PrintWriter out, X509Certificate[] chain) {
        out.println("Server certificate:");
        for (String line : details(chain[0])) out.println("  " + line);
        out.println("Chain sent by the server (" + chain.length + (chain.length == 1 ? " certificate" : " certificates")
                + ", server first):");
        for (int i = 0; i < chain.length; i++) {
            out.println("  [" + i + "] " + chain[i].getSubjectX500Principal() + (isSelfSigned(chain[i]) ? " (self-signed)" : ""));
        }
    }

    /** "Label: value" lines; the fingerprint line has exactly the form the server and keytool print. */
    static List<String> details(X509Certificate cert) {
        List<String> lines = new ArrayList<>();
        lines.add("Subject: " + cert.getSubjectX500Principal());
        lines.add("Issuer: " + cert.getIssuerX500Principal() + (isSelfSigned(cert) ? " (self-signed)" : ""));
        List<String> sans = Certificates.subjectAltNames(cert);
        lines.add("Subject alternative names: " + (sans.isEmpty() ? "(none)" : String.join(", ", sans)));
        lines.add("Not before: " + date(cert.getNotBefore()));
        lines.add("Not after: " + date(cert.getNotAfter()) + " (" + remaining(cert.getNotAfter()) + ")");
        lines.add("Serial number: " + serial(cert.getSerialNumber()));
        lines.add("Version: " + cert.getVersion());
        lines.add("Public key: " + publicKey(cert.getPublicKey()));
        lines.add("Signature algorithm: " + cert.getSigAlgName());
        lines.add("Basic constraints: " + basicConstraints(cert));
        lines.add("Key usage: " + keyUsage(cert));
        lines.add("Extended key usage: " + extendedKeyUsage(cert));
        lines.add("SHA-256 fingerprint: " + Certificates.sha256Fingerprint(cert));
        return lines;
    }

    /** Issued by itself: same name AND its own key verifies its signature (a matching name alone proves nothing). */
    static boolean isSelfSigned(X509Certificate cert) {
        if (!cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) return false;
        try {
            cert.verify(cert.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    static String date(Date date) {
        return DATE.format(date.toInstant());
    }

    /** Hex as `openssl x509 -serial` prints it (keytool prints the same digits in lower case). */
    static String serial(BigInteger serial) {
        return serial.toString(16).toUpperCase();
    }

    private static String remaining(Date notAfter) {
        long days = Duration.between(Instant.now(), notAfter.toInstant()).toDays();
        if (notAfter.toInstant().isBefore(Instant.now())) return "EXPIRED " + -days + " days ago";
        return days + (days == 1 ? " day" : " days") + " remaining";
    }

    private static String publicKey(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) return "RSA " + rsa.getModulus().bitLength() + " bits";
        if (key instanceof ECPublicKey ec) {
            // The JDK's curve description starts with its standard name: "secp256r1 [NIST P-256,X9.62 prime256v1] (1.2...)".
            String curve = ec.getParams().toString().split("[ \\[(]")[0];
            return "EC " + curve + " (" + ec.getParams().getCurve().getField().getFieldSize() + " bits)";
        }
        if (key instanceof EdECPublicKey ed) return ed.getParams().getName();
        return key.getAlgorithm();
    }

    private static String basicConstraints(X509Certificate cert) {
        if (cert.getExtensionValue("2.5.29.19") == null) return "(absent: not a CA)";
        int pathLength = cert.getBasicConstraints();
        if (pathLength < 0) return "not a CA";
        return "CA" + (pathLength == Integer.MAX_VALUE ? ", no path length limit" : ", path length " + pathLength);
    }

    private static String keyUsage(X509Certificate cert) {
        boolean[] bits = cert.getKeyUsage();
        if (bits == null) return "(absent: any use)";
        List<String> names = new ArrayList<>();
        for (int i = 0; i < bits.length && i < KEY_USAGES.length; i++) if (bits[i]) names.add(KEY_USAGES[i]);
        return String.join(", ", names);
    }

    private static String extendedKeyUsage(X509Certificate cert) {
        try {
            List<String> oids = cert.getExtendedKeyUsage();
            if (oids == null) return "(absent: any purpose)";
            List<String> names = new ArrayList<>();
            for (String oid : oids) names.add(EXTENDED_KEY_USAGES.getOrDefault(oid, oid));
            return String.join(", ", names);
        } catch (CertificateParsingException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
