import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The client's trust manager: the JDK's PKIX one doing all the real checks, wrapped to (1) remember the chain the
 * server presented, so a failed handshake can still show and offer it (the lecture's "browser" flow), (2) refuse a
 * server whose certificate changed since the user stored it, and (3) check the dates of the server's own certificate.
 * It never accepts anything the PKIX trust manager rejects: every failure is re-thrown.
 */
final class RecordingTrustManager extends X509ExtendedTrustManager {
    /** The server shows a different certificate from the one stored for it in the known-servers file. */
    static final class CertificateChangedException extends CertificateException {
        final transient X509Certificate stored;

        CertificateChangedException(X509Certificate stored) {
            super("the server's certificate differs from the one stored for it");
            this.stored = stored;
        }
    }

    private final X509ExtendedTrustManager pkix;
    private final X509Certificate stored;
    private X509Certificate[] chain;
    private CertificateException failure;
    private Exception notOfferable;
    private boolean offerable;

    RecordingTrustManager(X509ExtendedTrustManager pkix, X509Certificate stored) {
        this.pkix = pkix;
        this.stored = stored;
    }

    /** The chain the server presented (server's certificate first), or null if the handshake never got that far. */
    X509Certificate[] chain() { return chain; }

    /** Why the certificate check failed, or null if it passed or never ran. */
    CertificateException failure() { return failure; }

    /** True when the only problem is a missing trust anchor: trusting the chain's top would pass every other check. */
    boolean offerable() { return offerable; }

    /** When the chain is untrusted and also fails another check (host name, dates), that failure; else null. */
    Exception notOfferable() { return notOfferable; }

    /**
     * True when PKIX found no trusted certificate to anchor the chain: either no path at all, or a trusted certificate
     * with the issuer's NAME whose key did not sign it (two lab certificates both called CN=localhost).
     */
    static boolean untrusted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertPathBuilderException) return true;
            if (t instanceof CertPathValidatorException v && v.getReason() == BasicReason.INVALID_SIGNATURE) return true;
        }
        return false;
    }

    @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        this.chain = chain.clone();
        try {
            ownChecks(chain);
            // With a socket, the JDK also checks the host name (endpoint identification) against the handshake session.
            pkix.checkServerTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            failure = e;
            if (untrusted(e)) trialWithOwnRoot(chain, authType, socket);
            throw e;
        }
    }

    @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        this.chain = chain.clone();
        try {
            ownChecks(chain);
            pkix.checkServerTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            failure = e;
            throw e;
        }
    }

    @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        this.chain = chain.clone();
        try {
            ownChecks(chain);
            pkix.checkServerTrusted(chain, authType);
        } catch (CertificateException e) {
            failure = e;
            throw e;
        }
    }

    private void ownChecks(X509Certificate[] chain) throws CertificateException {
        if (stored != null && !stored.equals(chain[0])) throw new CertificateChangedException(stored);
        // PKIX checks no dates on a trust anchor: an anchor is trusted by definition. When the server's certificate IS
        // the anchor (the lab's self-signed certificate, and every certificate accepted at the prompt), the JDK accepts
        // it even after it expired (tried on JDK 17). So the server's own certificate's dates are checked here.
        chain[0].checkValidity();
    }

    /**
     * Decides whether the untrusted chain may be offered at the prompt, before asking: the same PKIX checks, on the
     * same socket (so the JDK checks the host name with its own rules), with the chain's top certificate as the only
     * anchor. If that passes, trusting the certificate fixes the failure; if not (a name mismatch, an expired
     * intermediate, a bad signature) it is never offered.
     */
    private void trialWithOwnRoot(X509Certificate[] chain, String authType, Socket socket) {
        try {
            TrustSource.pkix(List.of(chain[chain.length - 1])).checkServerTrusted(chain, authType, socket);
            offerable = true;
        } catch (GeneralSecurityException e) {
            notOfferable = e;
        }
    }

    @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        pkix.checkClientTrusted(chain, authType, socket);
    }

    @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        pkix.checkClientTrusted(chain, authType, engine);
    }

    @Override public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
    }

    @Override public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }
}
