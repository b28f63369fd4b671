import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.KeyStore;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Test support: certificates certgen.sh does not make, made with keytool the same way (passwords only in files).
 * {@link #chain} gives a root CA, an intermediate CA and a server certificate they sign.
 */
final class TestCerts {
    private TestCerts() {}

    /** The first certificate in a PEM file. */
    static X509Certificate read(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificates(in).iterator().next();
        }
    }

    /** SHA-256 of the DER encoding in uppercase colon-hex, the form keytool and openssl print. */
    static String fingerprint(X509Certificate cert) throws GeneralSecurityException {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    }

    /** Runs keytool in dir (English output, quick start) and fails the test if it fails. */
    static Lab.Result keytool(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of("keytool", "-J-Duser.language=en", "-J-XX:TieredStopAtLevel=1",
                "-J-XX:+UseSerialGC"));
        command.addAll(List.of(args));
        Lab.Result result = Lab.run(dir, Duration.ofSeconds(60), Map.of(), command);
        if (result.exitCode() != 0) throw new AssertionError("keytool failed: " + command + "\n" + result);
        return result;
    }

    /**
     * In dir: root.p12/root.crt ("CN=Test Root CA"), ca.p12/ca.crt ("CN=Test Intermediate CA", signed by the root),
     * and server.p12 (alias server, CN=localhost, SANs localhost/127.0.0.1, signed by the intermediate, holding the
     * whole chain) with server.pass, the password of all three stores.
     */
    static Path chain(Path dir) throws IOException {
        return chain(dir, "-validity", "30");
    }

    /** As {@link #chain(Path)}, with the server certificate's dates given as keytool -gencert options. */
    static Path chain(Path dir, String... serverDates) throws IOException {
        Files.createDirectories(dir);
        Path pass = dir.resolve("server.pass");
        Files.writeString(pass, HexFormat.of().formatHex(new SecureRandom().generateSeed(16)));
        String[] store = {"-storetype", "PKCS12", "-storepass:file", pass.toString()};
        String[] ec = {"-keyalg", "EC", "-groupname", "secp256r1"};
        keytool(dir, concat(List.of("-genkeypair", "-keystore", "root.p12", "-alias", "root", "-dname", "CN=Test Root CA",
                "-ext", "bc:c", "-validity", "30"), store, ec));
        keytool(dir, concat(List.of("-genkeypair", "-keystore", "ca.p12", "-alias", "ca", "-dname", "CN=Test Intermediate CA",
                "-ext", "bc:c"), store, ec));
        keytool(dir, concat(List.of("-genkeypair", "-keystore", "server.p12", "-alias", "server", "-dname", "CN=localhost"), store, ec));
        keytool(dir, concat(List.of("-exportcert", "-rfc", "-keystore", "root.p12", "-alias", "root", "-file", "root.crt"), store));

        keytool(dir, concat(List.of("-certreq", "-keystore", "ca.p12", "-alias", "ca", "-file", "ca.csr"), store));
        keytool(dir, concat(List.of("-gencert", "-rfc", "-keystore", "root.p12", "-alias", "root", "-infile", "ca.csr",
                "-outfile", "ca.crt", "-ext", "bc:c=ca:true,pathlen:0", "-ext", "ku:c=keyCertSign,cRLSign", "-validity", "30"), store));

        keytool(dir, concat(List.of("-certreq", "-keystore", "server.p12", "-alias", "server", "-file", "server.csr"), store));
        keytool(dir, concat(List.of("-gencert", "-rfc", "-keystore", "ca.p12", "-alias", "ca", "-infile", "server.csr",
                "-outfile", "server-only.crt", "-ext", "san=dns:localhost,ip:127.0.0.1", "-ext", "ku:c=digitalSignature",
                "-ext", "eku=serverAuth"), serverDates, store));
        Files.writeString(dir.resolve("server-chain.crt"), Files.readString(dir.resolve("server-only.crt"))
                + Files.readString(dir.resolve("ca.crt")) + Files.readString(dir.resolve("root.crt")));
        keytool(dir, concat(List.of("-importcert", "-noprompt", "-keystore", "server.p12", "-alias", "server",
                "-file", "server-chain.crt"), store));
        return dir;
    }

    /**
     * Two broken variants of a {@link #chain} in dir, served from keystores with the same password: cross.p12 sends
     * the server, the intermediate, and an EXPIRED cross-signature of the root by another root (cross.crt), which a
     * client trusting root.crt never needs (as with the 2021 "DST Root X3" chains); expired-ca.p12 sends the server,
     * an EXPIRED copy of the intermediate (the same key, so it still verifies), and the root.
     */
    static void expiredVariants(Path dir) throws Exception {
        Path pass = dir.resolve("server.pass");
        String[] store = {"-storetype", "PKCS12", "-storepass:file", pass.toString()};
        keytool(dir, concat(List.of("-genkeypair", "-keystore", "old.p12", "-alias", "old", "-dname",
                "CN=Old Test Root", "-ext", "bc:c", "-keyalg", "EC", "-groupname", "secp256r1"), store));
        keytool(dir, concat(List.of("-certreq", "-keystore", "root.p12", "-alias", "root", "-file", "root.csr"),
                store));
        keytool(dir, concat(List.of("-gencert", "-rfc", "-keystore", "old.p12", "-alias", "old", "-infile", "root.csr",
                "-outfile", "cross.crt", "-ext", "bc:c=ca:true", "-startdate", "-30d", "-validity", "1"), store));
        keytool(dir, concat(List.of("-gencert", "-rfc", "-keystore", "root.p12", "-alias", "root", "-infile", "ca.csr",
                "-outfile", "ca-expired.crt", "-ext", "bc:c=ca:true,pathlen:0", "-ext", "ku:c=keyCertSign,cRLSign",
                "-startdate", "-30d", "-validity", "1"), store));
        X509Certificate server = read(dir.resolve("server-only.crt")), ca = read(dir.resolve("ca.crt"));
        keystore(dir, "cross.p12", server, ca, read(dir.resolve("cross.crt")));
        keystore(dir, "expired-ca.p12", server, read(dir.resolve("ca-expired.crt")), read(dir.resolve("root.crt")));
    }

    /** dir/name: the key of dir/server.p12 with this chain, under the same password. */
    private static void keystore(Path dir, String name, X509Certificate... chain) throws Exception {
        char[] password = Files.readString(dir.resolve("server.pass")).strip().toCharArray();
        KeyStore original = KeyStore.getInstance("PKCS12"), copy = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("server.p12"))) {
            original.load(in, password);
        }
        copy.load(null, null);
        copy.setKeyEntry("server", original.getKey("server", password), password, chain);
        try (OutputStream out = Files.newOutputStream(dir.resolve(name))) {
            copy.store(out, password);
        }
    }

    /** A self-signed EC certificate in dir/server.p12 (+ server.pass, server.crt), for the given SAN list only. */
    static Path selfSigned(Path dir, String cn, String san) throws IOException {
        Files.createDirectories(dir);
        Path pass = dir.resolve("server.pass");
        Files.writeString(pass, HexFormat.of().formatHex(new SecureRandom().generateSeed(16)));
        String[] store = {"-storetype", "PKCS12", "-storepass:file", pass.toString(), "-keystore", "server.p12", "-alias", "server"};
        keytool(dir, concat(List.of("-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn,
                "-ext", "san=" + san), store));
        keytool(dir, concat(List.of("-exportcert", "-rfc", "-file", "server.crt"), store));
        return dir;
    }

    private static String[] concat(List<String> first, String[]... more) {
        List<String> all = new ArrayList<>(first);
        for (String[] part : more) all.addAll(List.of(part));
        return all.toArray(String[]::new);
    }
}
