import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Where the client's trust anchors come from: the --trust files, else certs/server.crt in the current folder, else the
 * JDK's default store (cacerts), as Python's create_default_context() uses the system's.
 */
record TrustSource(String description, List<X509Certificate> anchors) {
    static final Path LAB_CERTIFICATE = Path.of("certs", "server.crt");

    /** A trust file that is missing, unreadable, empty or not a certificate/trust store (exit 9). */
    static final class Problem extends Exception {
        final String fix;

        Problem(String message) {
            this(message, "Give a PEM certificate file (e.g. --trust certs/server.crt, made by ./certgen.sh) or a PKCS12/JKS trust store.");
        }

        Problem(String message, String fix) {
            super(message);
            this.fix = fix;
        }
    }

    static TrustSource load(List<Path> trustFiles, Path passwordFile) throws Problem {
        if (!trustFiles.isEmpty()) {
            List<X509Certificate> anchors = new ArrayList<>();
            for (Path file : trustFiles) anchors.addAll(read(file, passwordFile));
            return new TrustSource(count(anchors.size()) + " from " + join(trustFiles), anchors);
        }
        if (Files.exists(LAB_CERTIFICATE)) {
            List<X509Certificate> lab = read(LAB_CERTIFICATE, null);
            return new TrustSource(count(lab.size()) + " from " + LAB_CERTIFICATE + " (the lab's default)", lab);
        }
        List<X509Certificate> anchors = List.of(jdkDefault().getAcceptedIssuers());
        return new TrustSource(count(anchors.size()) + " from the JDK's default trust store (cacerts)", anchors);
    }

    /** The same anchors plus one more (a certificate stored in the known-servers file). */
    TrustSource plus(X509Certificate stored, String where) {
        List<X509Certificate> all = new ArrayList<>(anchors);
        all.add(stored);
        return new TrustSource(description + ", plus the certificate stored for " + where, Collections.unmodifiableList(all));
    }

    /** The JDK's own PKIX trust manager over these anchors: chain building, signatures, dates, and (given a socket) the host name. */
    X509ExtendedTrustManager trustManager() throws GeneralSecurityException {
        return pkix(anchors);
    }

    static X509ExtendedTrustManager pkix(List<X509Certificate> anchors) throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("an empty in-memory key store always loads", e);
        }
        for (int i = 0; i < anchors.size(); i++) store.setCertificateEntry("anchor" + i, anchors.get(i));
        // The factory COPIES the anchors now: a certificate trusted later needs a new factory and a new SSLContext.
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        return (X509ExtendedTrustManager) factory.getTrustManagers()[0];
    }

    private static X509TrustManager jdkDefault() {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init((KeyStore) null);
            return (X509TrustManager) factory.getTrustManagers()[0];
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's default trust store cannot be read: " + e.getMessage(), e);
        }
    }

    /** A PEM/DER file of certificates, or else a PKCS12/JKS trust store (opened with the password file if any). */
    private static List<X509Certificate> read(Path file, Path passwordFile) throws Problem {
        if (!Files.isRegularFile(file)) throw new Problem("trust file " + file + " does not exist (or is not a file).");
        if (!Files.isReadable(file)) throw new Problem("trust file " + file + " is not readable (check its permissions).");
        List<X509Certificate> certs;
        try {
            if (Files.size(file) == 0) throw new Problem("trust file " + file + " is empty.");
            certs = Certificates.readCertificates(file);
        } catch (CertificateException notCertificates) {
            certs = List.of();
        } catch (IOException e) {
            throw new Problem("trust file " + file + " cannot be read: " + e.getMessage());
        }
        if (certs.isEmpty()) certs = readStore(file, passwordFile);
        if (certs.isEmpty()) throw new Problem("trust file " + file + " holds no certificates.");
        return certs;
    }

    private static List<X509Certificate> readStore(Path file, Path passwordFile) throws Problem {
        char[] password = passwordFile == null ? null : password(passwordFile);
        try {
            // KeyStore.getInstance(File, ...) recognises the type (PKCS12 or JKS) from the content.
            KeyStore store = KeyStore.getInstance(file.toFile(), password);
            List<X509Certificate> certs = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (store.getCertificate(alias) instanceof X509Certificate cert) certs.add(cert);
            }
            return certs;
        } catch (IOException | GeneralSecurityException e) {
            String hint = passwordFile == null ? " (a password-protected PKCS12 store needs --trust-password-file)" : "";
            throw new Problem("trust file " + file + " is neither PEM certificates nor a readable PKCS12/JKS trust store"
                    + hint + ": " + e.getMessage());
        }
    }

    private static char[] password(Path passwordFile) throws Problem {
        try {
            return Files.readString(passwordFile, StandardCharsets.UTF_8).strip().toCharArray();
        } catch (NoSuchFileException | AccessDeniedException e) {
            throw new Problem("password file " + passwordFile + " does not exist or is not readable.");
        } catch (IOException e) {
            throw new Problem("password file " + passwordFile + " cannot be read: " + e.getMessage());
        }
    }

    private static String count(int n) {
        return n + (n == 1 ? " certificate" : " certificates");
    }

    private static String join(List<Path> files) {
        List<String> names = new ArrayList<>();
        for (Path file : files) names.add(file.toString());
        return String.join(", ", names);
    }
}
