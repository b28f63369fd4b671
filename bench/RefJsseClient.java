import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The start-up benchmark's baseline client: what a competent Java programmer writes with the JDK alone to send one
 * line over TLS and print its echo, with the checks our client makes: the server's chain against the certificates in
 * one PEM file and nothing else, the host name, and every certificate's dates (PKIX does not check a trust anchor's,
 * and a lab's self-signed certificate is its own anchor). compare.java compiles it and runs it with java's defaults.
 * Usage: RefJsseClient HOST PORT TRUST.pem MESSAGE
 */
public class RefJsseClient {
    public static void main(String... args) throws Exception {
        String host = args[0], message = args[3];
        int port = Integer.parseInt(args[1]);

        // A trust store holding exactly the certificates of the PEM file.
        KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
        anchors.load(null, null);
        try (InputStream in = Files.newInputStream(Path.of(args[2]))) {
            int i = 0;
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                anchors.setCertificateEntry("anchor" + i++, cert);
            }
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(anchors);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);

        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            parameters.setEndpointIdentificationAlgorithm("HTTPS");   // the host-name check
            socket.setSSLParameters(parameters);
            socket.connect(new InetSocketAddress(host, port), 10_000);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            for (Certificate cert : socket.getSession().getPeerCertificates()) ((X509Certificate) cert).checkValidity();

            socket.getOutputStream().write((message + "\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String echo = in.readLine();
            System.out.println("echo: " + echo);
            if (!message.equals(echo)) System.exit(8);
        }
    }
}
