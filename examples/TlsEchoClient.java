///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.*;
import java.security.interfaces.*;
import java.util.HexFormat;
import javax.net.ssl.*;

/** The lab's worked solution: the echo client of step 0 over TLS; checks the server and prints its certificate. */
public class TlsEchoClient {
    public static void main(String... args) throws GeneralSecurityException {
        if (args.length > 3) usage("too many arguments");
        if (args.length > 1 && !isPort(args[1])) usage(args[1] + " is not a port number (1 to 65535)");
        String host = args.length > 0 ? args[0] : "localhost";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8443;
        String trustFile = args.length > 2 ? args[2] : "certs/server.crt";
        // 8.1 the context says whom we trust; 8.2 wrap the socket first, then connect, as the lecture says.
        try (SSLSocket socket = (SSLSocket) trusting(trustFile).getSocketFactory().createSocket()) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");   // check the host name: raw JSSE sockets do not
            parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            socket.setSSLParameters(parameters);   // SNI is sent by itself for dotted host names (not for localhost)
            socket.setSoTimeout(10_000);   // the lecture's settimeout(10): a server that never answers cannot hang us
            socket.connect(new InetSocketAddress(host, port), 10_000);
            socket.startHandshake();   // explicit, so that its failures arrive here and not at the first read
            // The JDK's check skips the dates of a trusted self-signed certificate (a trust anchor): check them here.
            ((X509Certificate) socket.getSession().getPeerCertificates()[0]).checkValidity();
            var keyboard = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            OutputStream toServer = socket.getOutputStream();   // not a PrintWriter, which hides write errors
            var fromServer = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            System.setOut(new PrintStream(System.out, true, StandardCharsets.UTF_8));   // as we read: UTF-8
            System.out.println("Connected to " + host + ":" + port + " (TLS, certificate and host name verified)");
            printCertificate(socket.getSession());   // the credit task
            for (String line; (line = keyboard.readLine()) != null; ) {
                toServer.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                String echo = fromServer.readLine();
                if (echo == null) {
                    System.out.println("The server closed the connection.");
                    return;
                }
                System.out.println("echo: " + echo);   // exactly what came back
            }
        } catch (SocketTimeoutException e) {
            fail(host + ":" + port + " did not answer within 10 s: is it an echo server?");
        } catch (SSLException | CertificateExpiredException | CertificateNotYetValidException e) {   // 8.3
            fail(host + ":" + port + ": " + tlsProblem(e, trustFile, host));
        } catch (FileNotFoundException | CertificateException e) {
            fail("no certificate read from " + trustFile + ": run ./certgen.sh first, or name the server's .crt file");
        } catch (UnknownHostException e) {
            fail("unknown host " + host + ": check the name");
        } catch (ConnectException e) {
            fail("connection refused by " + host + ":" + port + ": is the server running, on that port?");
        } catch (IOException e) {   // the connection broke, while sending or receiving
            fail("the connection to " + host + ":" + port + " broke (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** 8.1: a context that trusts exactly the certificate(s) in the file: not the JDK's CAs, nor just anything. */
    static SSLContext trusting(String trustFile) throws IOException, GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);   // an empty store, in memory
        try (var in = new FileInputStream(trustFile)) {
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("trusted " + trusted.size(), certificate);
            }
        }
        if (trusted.size() == 0) throw new CertificateException("no certificate in " + trustFile);
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);   // no key managers: this client has no certificate
        return context;
    }

    /** 8.3: what went wrong in TLS, told by the exceptions' TYPES, as their messages differ between JDK versions. */
    static String tlsProblem(Exception e, String trustFile, String host) {
        if (causedBy(e, CertificateExpiredException.class)) return "its certificate has expired (renew it)";
        if (causedBy(e, CertificateNotYetValidException.class)) return "its certificate is not valid yet (clock?)";
        boolean badChain = causedBy(e, CertPathBuilderException.class) || causedBy(e, CertPathValidatorException.class);
        if (badChain) return "its certificate is not trusted: neither it nor its issuer is in " + trustFile;
        // What is left: the JDK checks the host name once the chain has passed; a mismatch is a CertificateException.
        if (causedBy(e, CertificateException.class)) return "its certificate is not valid for the name " + host;
        if (e instanceof SSLHandshakeException) return "TLS handshake failed: no TLS version in common, or it hung up";
        return "it does not speak TLS (" + e.getClass().getSimpleName() + "): is that the TLS server's port?";
    }

    static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) if (type.isInstance(cause)) return true;
        return false;
    }

    static boolean isPort(String text) {   // 1 to 65535, digits only
        return text.matches("[0-9]{1,5}") && Integer.parseInt(text) >= 1 && Integer.parseInt(text) <= 65535;
    }

    static void usage(String problem) {   // 8.3: a typing mistake is two lines and exit status 2, not a stack trace
        System.err.println("TlsEchoClient: " + problem);
        System.err.println("usage: java examples/TlsEchoClient.java [HOST [PORT [TRUST_FILE]]]");
        System.exit(2);
    }

    static void fail(String problemAndFix) {   // 8.3: one line on stderr and exit status 1, never a stack trace
        System.err.println("TlsEchoClient: " + problemAndFix);
        System.exit(1);
    }

    /** The credit task: what the server's certificate says, and what the handshake agreed on. */
    static void printCertificate(SSLSession session) throws IOException, GeneralSecurityException {
        X509Certificate certificate = (X509Certificate) session.getPeerCertificates()[0];
        var altNames = certificate.getSubjectAlternativeNames();   // [type, value] pairs: 2 is a DNS name, 7 an IP
        String names = altNames == null ? "none" : String.join(", ", altNames.stream().map(name ->
                (name.get(0).equals(2) ? "DNS:" : name.get(0).equals(7) ? "IP:" : "") + name.get(1)).toList());
        var key = certificate.getPublicKey();
        int bits = key instanceof RSAPublicKey rsa ? rsa.getModulus().bitLength()
                : key instanceof ECPublicKey ec ? ec.getParams().getCurve().getField().getFieldSize() : 0;
        byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        System.out.println("Server certificate:");
        System.out.println("  Subject: " + certificate.getSubjectX500Principal().getName());
        System.out.println("  Issuer: " + certificate.getIssuerX500Principal().getName());
        System.out.println("  Subject alternative names: " + names);
        System.out.println("  Not before: " + certificate.getNotBefore().toInstant());
        System.out.println("  Not after: " + certificate.getNotAfter().toInstant());
        System.out.println("  Serial number: " + certificate.getSerialNumber().toString(16).toUpperCase());
        System.out.println("  Public key: " + key.getAlgorithm() + (bits > 0 ? ", " + bits + " bits" : ""));
        System.out.println("  Signature algorithm: " + certificate.getSigAlgName());
        System.out.println("  SHA-256 fingerprint: " + HexFormat.ofDelimiter(":").withUpperCase().formatHex(sha256));
        System.out.println("Session: " + session.getProtocol() + ", " + session.getCipherSuite());
    }
}
