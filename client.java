///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
// A short run starts sooner with the quick C1 compiler alone, the simplest collector, and no performance-counter
// file in /tmp (that only tools like jps read): JBang gives these options to the client's JVM.
//RUNTIME_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData

import java.io.*;
import java.net.*;
import java.nio.channels.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.*;
import java.security.cert.*;
import java.security.interfaces.*;
import java.time.*;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.regex.*;
import javax.net.ssl.*;
import picocli.CommandLine;
import picocli.CommandLine.*;
import picocli.CommandLine.Model.CommandSpec;

/** The lab's TLS echo client: verifies the server's certificate, prints it, then echoes what you type. */
@Command(name = "client", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = "Connects to the TLS echo server, verifies its certificate (chain, host name, dates), prints "
                + "the certificate and the session, then sends each line you type and prints the echo.",
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:ok", "1:unexpected error", "2:usage error",
            "3:cannot connect (refused, unknown host, timeout)", "4:certificate not trusted, or changed since stored",
            "5:host name does not match the certificate", "6:certificate expired or not yet valid",
            "7:TLS protocol problem (no common version, not a TLS server)", "8:connection lost or echo mismatch",
            "9:trust file problem (missing, unreadable, empty)"})
public class client implements Callable<Integer> {
    static final int CANNOT_CONNECT = 3, NOT_TRUSTED = 4, NAME_MISMATCH = 5, EXPIRED = 6, PROTOCOL = 7, LOST = 8,
            TRUST_FILE = 9;

    static final Path DEFAULT_KNOWN_SERVERS = Path.of(System.getenv().getOrDefault("HOME",
            System.getProperty("user.home")), ".tls-echo-lab", "known_servers.pem");   // under $HOME, as in a shell

    enum TrustNew { ask, yes, no }

    @Parameters(index = "0", arity = "0..1", defaultValue = "localhost", paramLabel = "HOST",
            description = "server host name or IP address (default: ${DEFAULT-VALUE})")
    String host;
    @Parameters(index = "1", arity = "0..1", defaultValue = "8443", paramLabel = "PORT",
            description = "server port (default: ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--trust", paramLabel = "FILE", description = {"trust the certificates in FILE: PEM or a "
            + "PKCS12/JKS trust store; repeatable.", "Default: certs/server.crt if here, else the JDK's cacerts.",
            "With a certificate stored for the server, --trust trusts FILE's certificates AND the stored one: "
            + "the server may show either, or one they sign (a note says when it is not the stored one)."})
    List<Path> trustFiles = new ArrayList<>();
    @Option(names = "--trust-password-file", paramLabel = "FILE", description = "password of a --trust store")
    Path trustPasswordFile;
    @Option(names = "--known-servers", paramLabel = "FILE", description = "certificates you accepted at the prompt "
            + "(default: ~/.tls-echo-lab/known_servers.pem). Without --trust, a server with a stored certificate must "
            + "show exactly that one.")
    Path knownServersFile = DEFAULT_KNOWN_SERVERS;
    @Option(names = "--forget", paramLabel = "HOST:PORT", description = "remove the certificate stored for HOST:PORT "
            + "from the known-servers file, then exit")
    String forget;
    @Option(names = "--trust-new", paramLabel = "ask|yes|no", description = "when the certificate is not trusted: "
            + "ask, trust and store it (yes), or fail (no). Default: ask on a terminal, no otherwise.")
    TrustNew trustNew;
    @Option(names = "--timeout", defaultValue = "10", paramLabel = "SECONDS",
            description = "connect, handshake and echo timeout (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;
    @Option(names = "--tls", defaultValue = "1.3,1.2", split = ",", paramLabel = "VERSIONS",
            description = "TLS versions to offer (default: ${DEFAULT-VALUE}; 1.1 and 1.0 are obsolete)")
    List<String> tlsVersions;
    @Option(names = "--message", paramLabel = "TEXT", description = "send TEXT, print the echo, exit (repeatable)")
    List<String> messages = new ArrayList<>();
    @Option(names = "--quiet", description = "print only the echoes (no banner, certificate or session)")
    boolean quiet;
    @Option(names = "--debug", description = "stack traces on errors, and the JDK's handshake log (javax.net.debug)")
    boolean debug;
    @Spec CommandSpec spec;

    InputStream stdin = System.in;   // typed lines and the answer to the trust prompt; tests replace both
    Path labCertificate = Path.of("certs", "server.crt");   // trusted without --trust when here; tests use their own
    boolean interactive = isTerminal(System.console());
    Integer columns;   // the terminal's width, asked when a long error line needs it; 0: do not wrap
    private PrintWriter out, err;
    private BufferedReader input;
    private String[] protocols;
    private final List<X509Certificate> anchors = new ArrayList<>();
    private String trustSource;
    private List<Path> trustFilesUsed;   // the --trust files, or certs/server.crt, or none (the JDK's cacerts)
    private Checker checker;
    private boolean storedOverruled;   // a certificate is stored for this server, and --trust was given
    private String stage = "connect";

    public static void main(String... args) {
        System.exit(commandLine(new client()).execute(args));
    }

    @Override public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        if (debug) System.setProperty("javax.net.debug", "ssl:handshake");   // JSSE reads it once: set it first
        splitHostPort();
        protocols = checkOptions();
        String server = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        try {
            if (forget != null) return forget(forget);
            X509Certificate stored = knownServer(server);
            loadTrust();
            if (stored != null) trust(stored, server);
            // An explicit --trust is the user vouching for its certificates: the stored one is no longer required.
            storedOverruled = stored != null && !trustFiles.isEmpty();
            X509Certificate pinned = storedOverruled ? null : stored;
            if (!quiet) out.println("Connecting to " + server + " (" + String.join(", ", protocols) + "), trusting "
                    + trustSource);
            for (int attempt = 1; ; attempt++) {
                SSLSocket socket;
                try {
                    socket = connect(context(pinned));
                } catch (SSLHandshakeException e) {
                    // The lecture's browser flow: show the certificate, ask, then a second attempt with a NEW context
                    // (trust managers copy their certificates when made), every check, and that certificate pinned.
                    if (attempt > 1 || !offerToTrust(server)) throw e;
                    pinned = checker.chain[0];
                    trust(pinned, server);
                    continue;
                }
                try (socket) {
                    if (attempt > 1) {   // stored only now that the second attempt passed every check
                        storeKnownServer(knownServersFile, server, pinned);
                        out.println("Stored it in " + knownServersFile + " for " + server + ".");
                    }
                    if (storedOverruled && !stored.equals(checker.chain[0])) {
                        err.println(wrapped("note: --trust verified this certificate, but a different one is "
                                + "stored for " + server + " in " + knownServersFile + "; drop it with: "
                                + forgetCommand(server)));
                    }
                    if (!quiet) printCertificate(socket, server);
                    stage = "echo";
                    return echo(socket);
                }
            }
        // 8.3 Cleaner programming: each failure a student can cause becomes a short explanation and its own exit code.
        } catch (TrustProblem e) {
            return fail(TRUST_FILE, e, e.getMessage(), e.fix);
        } catch (UnknownHostException e) {
            return fail(CANNOT_CONNECT, e, "unknown host '" + host + "': no address found for that name.",
                    "Check the spelling; the lab server runs on this machine: localhost.");
        } catch (ConnectException e) {
            return fail(CANNOT_CONNECT, e, "connection refused by " + server + ": nothing is listening on that port.",
                    "Is the server running, on port " + port + "? Start it with: ./jbang server.java --port " + port);
        } catch (SocketTimeoutException e) {
            return timedOut(e, server);
        } catch (SSLHandshakeException e) {
            return handshakeFailed(e, server);
        } catch (IOException e) {
            if (stage.equals("handshake") && e instanceof SSLException) {
                return fail(PROTOCOL, e, server + " is not speaking TLS (its first bytes were not a TLS server hello).",
                        "Is it a plain TCP server (e.g. last week's echo server)? Use the TLS server's port.");
            }
            if (stage.equals("connect")) {
                return fail(CANNOT_CONNECT, e, "cannot connect to " + server + ": " + e.getClass().getSimpleName(),
                        "Check the address and the network (the lab runs on this machine: localhost).");
            }
            return fail(LOST, e, "connection lost during the " + stage + " (" + e.getClass().getSimpleName() + ").",
                    "The server closed the connection or went away; is it still running? (see its log)");
        }
    }

    /**
     * 8.1 The TLS context (purpose: verify the server). Java has no create_default_context(SERVER_AUTH): the purpose
     * is what SSLContext.init gets: trust managers that check the server, and no key of our own to show.
     */
    private SSLContext context(X509Certificate pinned) throws GeneralSecurityException {
        checker = new Checker(List.copyOf(anchors), pinned);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {checker}, null);
        return context;
    }

    /**
     * 8.2 Wrap first, then connect, as in the lecture: the TLS socket is made unconnected and connects itself. (Java's
     * other way, createSocket(plainSocket, host, port, true), layers TLS over a socket that must ALREADY be connected.)
     * Then the handshake, explicitly, so certificate problems show up here and not at the first write.
     */
    private SSLSocket connect(SSLContext context) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(protocols);
        parameters.setEndpointIdentificationAlgorithm("HTTPS");   // check the host name: raw JSSE sockets do not!
        if (sniName() != null) parameters.setServerNames(List.of(new SNIHostName(sniName())));
        socket.setSSLParameters(parameters);
        try {
            stage = "connect";
            socket.connect(new InetSocketAddress(host, port), timeoutSeconds * 1000);
            socket.setSoTimeout(timeoutSeconds * 1000);
            stage = "handshake";
            socket.startHandshake();
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** The credit task: the certificate the server presented (verified by now) in detail, its chain, the session. */
    private void printCertificate(SSLSocket socket, String server) throws IOException, GeneralSecurityException {
        SSLSession session = socket.getSession();
        java.security.cert.Certificate[] peer = session.getPeerCertificates();
        X509Certificate[] chain = Arrays.copyOf(peer, peer.length, X509Certificate[].class);
        out.println("Server certificate:");
        for (String line : details(chain[0])) out.println("  " + line);
        out.println("Chain sent by the server (" + chain.length + (chain.length == 1 ? " certificate" : " certificates")
                + ", server first):");
        for (int i = 0; i < chain.length; i++) {
            String self = selfSigned(chain[i]) ? " (self-signed)" : "";
            out.println("  [" + i + "] " + chain[i].getSubjectX500Principal() + self);
        }
        out.println("Session:");
        out.println("  TLS version: " + session.getProtocol());
        out.println("  Cipher suite: " + session.getCipherSuite());
        out.println("  Peer: " + server + " (" + socket.getInetAddress().getHostAddress() + ")");
        out.println("  SNI sent: " + (sniName() != null ? sniName() : "none (" + host + " is an IP address)"));
        out.println("  Host name checked: " + host);
        out.println("  Trust source: " + trustSource);
    }

    /** "Label: value" lines; the fingerprint has the form the server, keytool and openssl print. */
    static List<String> details(X509Certificate cert) throws GeneralSecurityException {
        long daysLeft = Duration.between(Instant.now(), cert.getNotAfter().toInstant()).toDays();
        return List.of("Subject: " + cert.getSubjectX500Principal(),
                "Issuer: " + cert.getIssuerX500Principal() + (selfSigned(cert) ? " (self-signed)" : ""),
                "Subject alternative names: " + subjectAltNames(cert),
                "Not before: " + date(cert.getNotBefore()),
                "Not after: " + date(cert.getNotAfter()) + (cert.getNotAfter().before(new Date())
                        ? " (EXPIRED " + -daysLeft + " days ago)" : " (" + daysLeft + " days remaining)"),
                "Serial number: " + cert.getSerialNumber().toString(16).toUpperCase(),
                "Version: " + cert.getVersion(),
                "Public key: " + publicKey(cert.getPublicKey()),
                "Signature algorithm: " + cert.getSigAlgName(),
                "Basic constraints: " + basicConstraints(cert.getBasicConstraints()),
                "Key usage: " + keyUsage(cert.getKeyUsage()),
                "Extended key usage: " + extendedKeyUsage(cert.getExtendedKeyUsage()),
                "SHA-256 fingerprint: " + fingerprint(cert));
    }

    /** Sends each line (from --message, else stdin), prints the echo, compares it; "quit" or end of input ends. */
    private int echo(SSLSocket socket) throws IOException {
        OutputStream toServer = socket.getOutputStream();
        var fromServer = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        boolean prompt = interactive && messages.isEmpty();
        if (prompt) out.println("Type a line to send it; \"quit\" or end of input (Ctrl-D) closes the connection.");
        Iterator<String> given = messages.iterator();
        while (true) {
            if (prompt) out.print("> ");
            out.flush();
            String line = messages.isEmpty() ? input().readLine() : given.hasNext() ? given.next() : null;
            if (line == null || line.equals("quit")) break;
            toServer.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            toServer.flush();
            String echo = fromServer.readLine();
            if (echo == null) throw new EOFException("the server closed the connection instead of echoing");
            out.println("echo: " + echo);
            if (!echo.equals(line)) {
                return fail(LOST, null, "echo mismatch: sent \"" + line + "\" but received \"" + echo + "\".",
                        "The server changed the data: is it really an echo server?");
            }
        }
        if (!quiet) out.println("Closing the connection (TLS close_notify).");
        return 0;
    }

    /** The browser flow's question; true when the certificate was accepted, so a second attempt follows. */
    private boolean offerToTrust(String server) throws IOException, GeneralSecurityException {
        TrustNew mode = trustNew != null ? trustNew : interactive ? TrustNew.ask : TrustNew.no;
        if (mode == TrustNew.no || checker.problem != Problem.UNTRUSTED) return false;
        X509Certificate cert = checker.chain[0];
        out.println("The server's certificate is not trusted (trust source: " + trustSource + "):");
        for (String line : details(cert)) out.println("  " + line);
        out.println("Compare this fingerprint with the \"SHA-256 fingerprint:\" line the server printed when it "
                + "started.");
        if (mode == TrustNew.ask) {
            out.print("Trust this certificate? [y/N] ");
            out.flush();
            String answer = input().readLine();
            if (answer == null || !answer.strip().matches("(?i)y|yes")) {
                out.println("Not trusted.");
                return false;
            }
        } else {
            out.println("Trusting it (--trust-new yes).");
        }
        out.println("Connecting again, trusting it, with full chain and host-name checks.");
        return true;
    }

    /** Why the certificate check failed, as the checker found it; or, if it passed, what else ended the handshake. */
    private int handshakeFailed(SSLHandshakeException e, String server) throws GeneralSecurityException {
        X509Certificate[] chain = checker.chain;
        if (checker.problem == null) {
            String alert = jdkFact(RECEIVED_ALERT, e), offered = String.join(", ", tlsVersions);
            if ("protocol_version".equals(alert)) {
                return fail(PROTOCOL, e, "no TLS version in common with " + server + ": this client offers " + offered
                        + ".", "Upgrade the server; or offer other versions with --tls (1.0 and 1.1 are obsolete).");
            }
            if (e.getCause() instanceof EOFException) {
                return fail(LOST, e, "the server closed the connection during the TLS handshake.",
                        "It may not accept what this client offers (TLS " + offered + "): see the server's log.");
            }
            return fail(PROTOCOL, e, "the TLS handshake with " + server + " failed" + (alert != null ? ": the server "
                    + "sent the alert " + alert : "") + ".", "See the server's log; --debug shows the handshake.");
        }
        return switch (checker.problem) {
            case CHANGED -> fail(NOT_TRUSTED, e, "the certificate of " + server + " has CHANGED since you trusted it: "
                    + "possible man-in-the-middle attack! Stored: SHA-256 " + fingerprint(checker.pinned) + "; now: "
                    + "SHA-256 " + fingerprint(chain[0]) + ".", "Only if the server really has a new certificate (e.g. "
                    + "./certgen.sh --force), forget the old one (" + forgetCommand(server) + ") and connect again, "
                    + "or connect with --trust naming its new server.crt.");
            case OUT_OF_DATE -> outOfDate(e, chain);
            case WRONG_NAME -> fail(NAME_MISMATCH, e, "the certificate is not valid for the name you dialled: " + host
                    + ". It is valid for: " + subjectAltNames(chain[0]) + ".", "Connect with one of those names, or "
                    + "make a certificate for this one: ./certgen.sh --force --name " + host);
            default -> untrusted(e, chain);
        };
    }

    /** "PKIX path building failed", translated: which certificate, why not trusted, and how to trust it. */
    private int untrusted(SSLHandshakeException e, X509Certificate[] chain) throws GeneralSecurityException {
        X509Certificate top = chain[chain.length - 1];
        String which = "the server's certificate " + chain[0].getSubjectX500Principal() + " (" + (selfSigned(chain[0])
                ? "self-signed" : "issued by " + chain[0].getIssuerX500Principal() + (chain.length > 1
                ? ", chain ending at " + top.getSubjectX500Principal() : "")) + ", SHA-256 fingerprint "
                + fingerprint(chain[0]) + ")";
        boolean sameName = anchors.stream().anyMatch(anchor -> anchor.getSubjectX500Principal()
                .equals(top.getIssuerX500Principal()));
        String fix = switch (checker.problem) {
            case UNTRUSTED_WRONG_NAME -> "It cannot be trusted here anyway: it is not valid for the name you dialled, "
                    + host + " (it is valid for: " + subjectAltNames(chain[0]) + ").";
            case UNTRUSTED_CHAIN -> "It cannot be trusted here anyway: its chain fails even from its own root.";
            case UNTRUSTED_OUT_OF_DATE -> "It cannot be trusted here anyway: it is out of date (valid from "
                    + date(chain[0].getNotBefore()) + " to " + date(chain[0].getNotAfter()) + "); only its owner can "
                    + "renew it.";
            default -> "To trust it, compare that fingerprint with the one the server printed at start, then connect "
                    + "with --trust FILE (e.g. --trust certs/server.crt) or answer yes at the prompt "
                    + "(--trust-new ask).";
        };
        String renewed = storedOverruled ? " (the certificate stored for this server is a DIFFERENT one: was the "
                + "server's certificate made again?)" : sameName ? " (it trusts a DIFFERENT certificate with the same "
                + "name: was the server's certificate made again?)" : "";
        return fail(NOT_TRUSTED, e, "not trusted: " + which + " is not signed by anything in the trust source: "
                + trustSource + renewed + ".", fix);
    }

    private int outOfDate(SSLHandshakeException e, X509Certificate[] chain) {
        Date now = new Date();
        X509Certificate cert = Arrays.stream(chain)
                .filter(c -> c.getNotAfter().before(now) || c.getNotBefore().after(now)).findFirst().orElse(chain[0]);
        boolean early = cert.getNotBefore().after(now);
        // The hint names a certificate set only when the one trust file in use holds this chain's root.
        boolean fromFile = trustFilesUsed.size() == 1 && anchors.contains(chain[chain.length - 1]);
        Path file = fromFile ? trustFilesUsed.get(0) : null;
        Path folder = file == null ? null : Objects.requireNonNullElse(file.getParent(), Path.of("."));
        String certgen = folder == null ? "./certgen.sh --force --out ITS-FOLDER, on the server"
                : "./certgen.sh --force" + (folder.equals(Path.of("certs")) ? "" : " --out " + folder);
        return fail(EXPIRED, e, (cert == chain[0] ? "the server's certificate " : "the certificate "
                + cert.getSubjectX500Principal() + " in the chain ") + (early ? "is not valid yet" : "has expired")
                + ": valid from " + date(cert.getNotBefore()) + " to " + date(cert.getNotAfter()) + " (now: "
                + date(now) + ").", early ? "Check this computer's clock, or make a certificate valid from now: "
                + certgen : "Make a new certificate (" + certgen + ") and restart the server.");
    }

    private int timedOut(SocketTimeoutException e, String server) {
        return switch (stage) {
            case "connect" -> fail(CANNOT_CONNECT, e, "no answer from " + server + " within " + timeoutSeconds + " s.",
                    "Is the address right and reachable? A firewall may be dropping the connection.");
            case "handshake" -> fail(PROTOCOL, e, server + " accepted the connection but did not answer the TLS "
                    + "handshake within " + timeoutSeconds + " s.", "Is it a TLS server? A plain TCP server waits for "
                    + "text and never answers a ClientHello.");
            default -> fail(LOST, e, "no echo from " + server + " within " + timeoutSeconds + " s.",
                    "Is the server still running? Try a longer --timeout.");
        };
    }

    enum Problem { CHANGED, OUT_OF_DATE, WRONG_NAME, UNTRUSTED, UNTRUSTED_OUT_OF_DATE, UNTRUSTED_WRONG_NAME,
        UNTRUSTED_CHAIN }

    /**
     * The client's trust manager. One decision, in this order: the stored certificate, when it is pinned (the server
     * must show exactly it); then the JDK's PKIX trust manager, which given the socket checks the chain up to a
     * trusted certificate AND the host name; then the dates PKIX leaves unchecked: a trust anchor's (the lab's
     * self-signed certificate IS the anchor). It remembers the chain, so a failed handshake can still show it.
     */
    static final class Checker extends X509ExtendedTrustManager {
        final List<X509Certificate> anchors;
        final X509Certificate pinned;
        X509Certificate[] chain;
        Problem problem;

        Checker(List<X509Certificate> anchors, X509Certificate pinned) {
            this.anchors = anchors;
            this.pinned = pinned;
        }

        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            this.chain = chain.clone();
            try {
                if (pinned != null && !pinned.equals(chain[0])) throw new ChangedCertificate();
                verify(anchors, chain, authType, socket);
            } catch (CertificateException e) {
                // Which check failed, by the JDK's own rules: the same checks without the host name, and from the
                // chain's own root (could "trust it?" help?).
                List<X509Certificate> ownRoot = List.of(chain[chain.length - 1]);
                problem = classify(e, leadsToAnAnchor(chain, anchors), failure(anchors, chain, authType, null),
                        failure(ownRoot, chain, authType, socket), failure(ownRoot, chain, authType, null));
                throw e;
            }
        }

        /** PKIX (with the socket: the host name too), then the leaf's dates and those of any sent trust anchor. */
        static void verify(List<X509Certificate> anchors, X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            if (socket == null) pkix(anchors).checkServerTrusted(chain, authType);
            else pkix(anchors).checkServerTrusted(chain, authType, socket);
            for (X509Certificate cert : chain) {
                if (cert == chain[0] || anchors.contains(cert)) cert.checkValidity();
            }
        }

        private static CertificateException failure(List<X509Certificate> anchors, X509Certificate[] chain,
                String authType, Socket socket) {
            try {
                verify(anchors, chain, authType, socket);
                return null;
            } catch (CertificateException e) {
                return e;
            }
        }

        @Override public X509Certificate[] getAcceptedIssuers() { return anchors.toArray(X509Certificate[]::new); }
        // A client on sockets only checks servers on sockets: the other checks are never called.
        private static UnsupportedOperationException notOnSockets() { return new UnsupportedOperationException(); }
        @Override public void checkServerTrusted(X509Certificate[] c, String a) { throw notOnSockets(); }
        @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) { throw notOnSockets(); }
        @Override public void checkClientTrusted(X509Certificate[] c, String a) { throw notOnSockets(); }
        @Override public void checkClientTrusted(X509Certificate[] c, String a, Socket s) { throw notOnSockets(); }
        @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) { throw notOnSockets(); }
    }

    /** The server showed another certificate than the one stored (pinned) for it. */
    static final class ChangedCertificate extends CertificateException {}

    /**
     * What went wrong: from the exception of the decision, whether the chain leads to a certificate the client holds,
     * and what the same checks give without the host name and from the chain's own root (null: passed). Only
     * exception types count, never the JDK's wording.
     */
    static Problem classify(CertificateException failed, boolean leadsToAnAnchor, CertificateException withoutName,
            CertificateException fromOwnRoot, CertificateException fromOwnRootWithoutName) {
        if (failed instanceof ChangedCertificate) return Problem.CHANGED;
        // PKIX checks dates before signatures: "expired" alone may be the date of a certificate nobody trusts.
        if (leadsToAnAnchor && outOfDate(failed)) return Problem.OUT_OF_DATE;
        if (withoutName == null || leadsToAnAnchor && outOfDate(withoutName)) return Problem.WRONG_NAME;
        if (fromOwnRoot == null) return Problem.UNTRUSTED;   // the one problem the prompt can fix
        if (outOfDate(fromOwnRoot)) return Problem.UNTRUSTED_OUT_OF_DATE;
        if (fromOwnRootWithoutName == null || outOfDate(fromOwnRootWithoutName)) return Problem.UNTRUSTED_WRONG_NAME;
        return Problem.UNTRUSTED_CHAIN;
    }

    /**
     * A date check failed: a certificate's own (checkValidity), or PKIX's on a chain it could follow to a trusted
     * certificate. A chain PKIX found no path for (CertPathBuilderException) is untrusted, whatever its dates.
     */
    static boolean outOfDate(Throwable e) {
        for (; e != null; e = e.getCause()) {
            if (e instanceof CertificateExpiredException || e instanceof CertificateNotYetValidException) return true;
            if (e instanceof CertPathBuilderException) return false;
        }
        return false;
    }

    /** A certificate of the chain is one the client trusts, or is signed by one: trusted, whatever the dates say. */
    static boolean leadsToAnAnchor(X509Certificate[] chain, List<X509Certificate> anchors) {
        for (X509Certificate cert : chain) {
            for (X509Certificate anchor : anchors) {
                if (cert.equals(anchor)) return true;
                if (!cert.getIssuerX500Principal().equals(anchor.getSubjectX500Principal())) continue;
                try {
                    cert.verify(anchor.getPublicKey());
                    return true;
                } catch (GeneralSecurityException notSignedByIt) {
                    // another certificate with that name, or none: the next one
                }
            }
        }
        return false;
    }

    /** The JDK's PKIX trust manager over these anchors. It copies them now: trusting one more needs a new one. */
    static X509ExtendedTrustManager pkix(List<X509Certificate> anchors) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < anchors.size(); i++) store.setCertificateEntry("anchor" + i, anchors.get(i));
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            return (X509ExtendedTrustManager) factory.getTrustManagers()[0];
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("every JDK makes an in-memory PKIX trust manager", e);
        }
    }

    // Trust sources below: the --trust files, the lab's certificate, the JDK's cacerts, the known-servers file.

    /** A trust file that is missing, unreadable, empty or holds no certificate (exit 9). */
    static final class TrustProblem extends Exception {
        final String fix;

        TrustProblem(String message, String fix) {
            super(message);
            this.fix = fix;
        }

        TrustProblem(String message) {
            this(message, "Give a PEM certificate file (e.g. --trust certs/server.crt) or a PKCS12/JKS trust store.");
        }
    }

    /** --trust files, else certs/server.crt here (the lab's), else the JDK's cacerts, as Python uses the system's. */
    private void loadTrust() throws TrustProblem, GeneralSecurityException {
        List<Path> files = !trustFiles.isEmpty() ? trustFiles
                : Files.exists(labCertificate) ? List.of(labCertificate) : List.of();
        trustFilesUsed = files;
        for (Path file : files) anchors.addAll(readTrustFile(file));
        if (files.isEmpty()) {
            TrustManagerFactory jdk = TrustManagerFactory.getInstance("PKIX");
            jdk.init((KeyStore) null);
            anchors.addAll(List.of(((X509TrustManager) jdk.getTrustManagers()[0]).getAcceptedIssuers()));
        }
        trustSource = anchors.size() + (anchors.size() == 1 ? " certificate" : " certificates") + " from "
                + (files.isEmpty() ? "the JDK's default trust store (cacerts)" : String.join(", ",
                files.stream().map(Path::toString).toList()) + (trustFiles.isEmpty() ? " (the lab's default)" : ""));
    }

    private void trust(X509Certificate stored, String server) {
        anchors.add(stored);
        trustSource += ", plus the certificate stored for " + server + " in " + knownServersFile;
    }

    /** PEM (or DER) certificates, else a PKCS12/JKS trust store, opened with --trust-password-file if given. */
    private List<X509Certificate> readTrustFile(Path file) throws TrustProblem {
        if (!Files.isRegularFile(file)) throw new TrustProblem("trust file " + file + " does not exist.");
        if (!Files.isReadable(file)) throw new TrustProblem("trust file " + file + " is not readable (permissions?).");
        char[] password = null;
        try {
            if (Files.size(file) == 0) throw new TrustProblem("trust file " + file + " is empty.");
            List<X509Certificate> certs = certificates(Files.readAllBytes(file));
            if (!certs.isEmpty()) return certs;
            if (trustPasswordFile != null) password = Files.readString(trustPasswordFile).strip().toCharArray();
            KeyStore store = KeyStore.getInstance(file.toFile(), password);   // the type (PKCS12, JKS) from the content
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {   // visible even without the password
                    throw new TrustProblem("trust file " + file + " holds a private key: it is a server's keystore "
                            + "(like certs/server.p12), which a client must never have.", "Give the client server.crt, "
                            + "never server.p12: e.g. --trust certs/server.crt (certgen.sh writes it beside the key).");
                }
                if (store.getCertificate(alias) instanceof X509Certificate cert) certs.add(cert);
            }
            if (certs.isEmpty()) throw new TrustProblem("trust file " + file + " holds no certificates.");
            return certs;
        } catch (NoSuchFileException e) {
            throw new TrustProblem("password file " + trustPasswordFile + " does not exist.");
        } catch (IOException | GeneralSecurityException e) {
            throw new TrustProblem("trust file " + file + " is neither PEM certificates nor a readable PKCS12/JKS "
                    + "trust store" + (password == null ? " (with a password? --trust-password-file)" : "."));
        }
    }

    /** One entry of the known-servers file: its "# HOST:PORT SHA-256 ..." line, its certificate, and its lines. */
    record KnownServer(String server, String header, X509Certificate cert, int firstLine, int lastLine) {}

    /** The known-servers file's lines as they are, and its entries; both empty when there is no file yet. */
    record KnownServers(List<String> lines, List<KnownServer> entries) {
        KnownServer find(String server) {
            return entries.stream().filter(entry -> entry.server().equals(server)).findFirst().orElse(null);
        }
    }

    static final Pattern ENTRY = Pattern.compile("# (\\S+:\\d{1,5}) SHA-256( .*)?");
    static final String BEGIN = "-----BEGIN CERTIFICATE-----", END = "-----END CERTIFICATE-----";
    private static final Object WRITERS = new Object();   // writers in this JVM, one at a time (see storeKnownServer)

    /** The certificate stored for host:port in the known-servers file (like ssh's known_hosts), or null. */
    private X509Certificate knownServer(String server) throws TrustProblem {
        KnownServer entry = readKnownServers(knownServersFile).find(server);
        return entry == null ? null : entry.cert();
    }

    /**
     * Reads the file as ssh reads known_hosts: blank lines, and "#" lines that are not an entry's, are comments,
     * anywhere; an entry is a "# HOST:PORT SHA-256 ..." line and one PEM certificate under it. Anything else is an
     * error naming its line.
     */
    static KnownServers readKnownServers(Path file) throws TrustProblem {
        List<String> lines;
        try {
            if (!Files.exists(file)) return new KnownServers(List.of(), List.of());
            // One character per byte: a byte beyond ASCII is then found on its line, instead of failing the decoding.
            lines = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).lines().toList();
        } catch (IOException e) {
            throw new TrustProblem("the known-servers file " + file + " cannot be read (" + e.getClass()
                    .getSimpleName() + ").", "Check its permissions, or use another one with --known-servers FILE.");
        }
        List<KnownServer> entries = new ArrayList<>();
        String server = null, header = null;
        X509Certificate cert = null;
        StringBuilder base64 = null;   // not null inside a certificate
        int first = 0, begin = 0, last = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            Matcher entry = ENTRY.matcher(line);
            if (line.chars().anyMatch(c -> c > 127)) throw badLine(file, i, "a character that is not ASCII");
            if (base64 != null) {
                if (line.equals(END)) {
                    cert = pem(file, begin, base64.toString());
                    base64 = null;
                    last = i;
                } else if (line.matches("[A-Za-z0-9+/=]*")) {
                    base64.append(line);
                } else {
                    throw badLine(file, i, "neither base64 nor the END line of the certificate begun on line "
                            + (begin + 1));
                }
            } else if (entry.matches()) {
                if (server != null) entries.add(entry(file, server, header, cert, first, last));
                server = entry.group(1);
                header = line;
                cert = null;
                first = last = i;
                KnownServer earlier = new KnownServers(lines, entries).find(server);
                if (earlier != null) {
                    throw badLine(file, i, "a second entry for " + server + " (the first is on line "
                            + (earlier.firstLine() + 1) + ")");
                }
            } else if (line.isEmpty() || line.startsWith("#")) {
                continue;   // a blank line or a comment
            } else if (line.equals(BEGIN)) {
                if (server == null) throw badLine(file, i, "a certificate outside any entry (no \"# HOST:PORT SHA-256 "
                        + "...\" line above it)");
                if (cert != null) throw badLine(file, i, "a second certificate in the entry for " + server
                        + " (line " + (first + 1) + "): an entry holds one");
                base64 = new StringBuilder();
                begin = i;
            } else {
                throw badLine(file, i, "neither a comment, nor an entry's \"# HOST:PORT SHA-256 ...\" line, nor part "
                        + "of a PEM certificate");
            }
        }
        if (base64 != null) throw badLine(file, begin, "a certificate with no " + END + " line");
        if (server != null) entries.add(entry(file, server, header, cert, first, last));
        return new KnownServers(lines, entries);
    }

    private static KnownServer entry(Path file, String server, String header, X509Certificate cert, int first,
            int last) throws TrustProblem {
        if (cert == null) throw badLine(file, first, "the entry for " + server + " holds no certificate");
        return new KnownServer(server, header, cert, first, last);
    }

    private static X509Certificate pem(Path file, int begin, String base64) throws TrustProblem {
        try {
            byte[] der = Base64.getDecoder().decode(base64);
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (IllegalArgumentException | CertificateException e) {
            throw badLine(file, begin, "a certificate that cannot be read (damaged base64?)");
        }
    }

    private static TrustProblem badLine(Path file, int index, String what) {
        return new TrustProblem("the known-servers file " + file + ", line " + (index + 1) + ": " + what + ".",
                "Edit that line (an entry: a \"# HOST:PORT SHA-256 ...\" line, then one PEM certificate), or use "
                + "another file with --known-servers FILE.");
    }

    /**
     * Stores cert for server (null: removes its entry); other lines stay as they are. Returns the entry it replaced
     * or removed, or null. Writers take turns across read, change and rename, so two clients storing at once keep
     * both entries: a lock file beside it for other processes, and a monitor first for this JVM's own threads
     * (FileChannel.lock belongs to the whole JVM: a second lock from within it throws instead of waiting).
     */
    static KnownServer storeKnownServer(Path file, String server, X509Certificate cert)
            throws TrustProblem, GeneralSecurityException {
        try {
            Path target = linkTarget(file), folder = target.getParent();
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {   // owner-only, as ssh's
                Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } else {
                Files.createDirectories(folder);
            }
            synchronized (WRITERS) {
                try (FileChannel lockFile = FileChannel.open(folder.resolve(target.getFileName() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock locked = lockFile.lock()) {
                    KnownServers known = readKnownServers(file);
                    KnownServer old = known.find(server);
                    List<String> lines = new ArrayList<>(known.lines());
                    if (old != null) lines.subList(old.firstLine(), old.lastLine() + 1).clear();
                    if (cert != null) {
                        lines.add("# " + server + " SHA-256 " + fingerprint(cert) + " added "
                                + Instant.now().truncatedTo(ChronoUnit.SECONDS));
                        lines.add(BEGIN);
                        lines.addAll(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded())
                                .lines().toList());
                        lines.add(END);
                    }
                    replace(target, lines);
                    return old;
                }
            }
        } catch (IOException e) {
            throw new TrustProblem("cannot write the known-servers file " + file + " (" + e.getClass()
                    .getSimpleName() + ").", "Choose a file you can write with --known-servers FILE.");
        }
    }

    /** The file a symbolic link (or a chain of them) points to: that file is replaced, the link stays. */
    static Path linkTarget(Path file) throws IOException {
        Path target = file.toAbsolutePath();
        for (int hops = 0; Files.isSymbolicLink(target); hops++) {
            if (hops == 40) throw new FileSystemLoopException(file.toString());
            target = target.resolveSibling(Files.readSymbolicLink(target));
        }
        return target;
    }

    /** A new owner-only file (createTempFile's default), renamed over the old one: a reader never sees half of it. */
    static void replace(Path file, List<String> lines) throws IOException {
        Path temporary = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.write(temporary, lines, StandardCharsets.US_ASCII);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);   // still there only if the write or the rename failed
        }
    }

    /** --forget HOST:PORT, as ssh-keygen -R: the entry goes, and the next connection asks again. */
    private int forget(String server) throws TrustProblem, GeneralSecurityException {
        KnownServers known = readKnownServers(knownServersFile);   // nothing stored: nothing written, not even a lock
        KnownServer removed = known.find(server) == null ? null : storeKnownServer(knownServersFile, server, null);
        if (removed == null) {
            List<String> stored = known.entries().stream().map(KnownServer::server)
                    .filter(other -> !other.equals(server)).toList();
            out.println("Nothing is stored for " + server + " in " + knownServersFile + (stored.isEmpty() ? "."
                    : " (it holds: " + String.join(", ", stored) + ")."));
            return 0;
        }
        out.println("Forgot " + server + " (" + removed.header().replaceFirst("^# \\S+ ", "") + ") from "
                + knownServersFile + ".");
        return 0;
    }

    private String forgetCommand(String server) {
        return "./jbang client.java --forget " + server
                + (knownServersFile.equals(DEFAULT_KNOWN_SERVERS) ? "" : " --known-servers " + knownServersFile);
    }

    // Command-line polish below: checks, wording, formatting. The TLS steps are all above.

    /** TLS 1.3 and 1.2 by default; "1.0"/"1.1" only by explicit choice, with the JDK's ban lifted for this run. */
    private String[] checkOptions() {
        List<String> names = new ArrayList<>();
        for (String version : tlsVersions) {
            String number = version.strip().replaceFirst("(?i)^tlsv?", "");
            if (!number.matches("1(\\.[0-3])?")) throw usage("--tls: unknown TLS version '" + version + "' (1.0-1.3)");
            names.add(number.equals("1") || number.equals("1.0") ? "TLSv1" : "TLSv" + number);
        }
        if (port < 1 || port > 65535) throw usage("PORT must be 1-65535, not " + port);
        if (timeoutSeconds < 1) throw usage("--timeout must be at least 1 second");
        try {
            if (sniName() != null) new SNIHostName(sniName());
        } catch (IllegalArgumentException e) {
            throw usage("HOST '" + host + "' is neither a host name nor an IP address");
        }
        List<String> legacy = names.stream().filter(name -> name.matches("TLSv1(\\.1)?")).toList();
        if (!legacy.isEmpty()) {
            if (!allowLegacyTls(legacy)) {
                throw usage("--tls: this JDK does not offer " + String.join(" or ", legacy.stream().map(name -> name
                        .equals("TLSv1") ? "TLS 1.0" : "TLS 1.1").toList()) + " here, even for this run (JSSE had "
                        + "already started, or the JDK's security settings forbid it); leave them out of --tls");
            }
            err.println("warning: TLS 1.0 and 1.1 are obsolete and insecure; allowed for this run only.");
        }
        return names.toArray(String[]::new);
    }

    /**
     * Takes these versions out of the JDK's disabled list (jdk.tls.disabledAlgorithms: comma-separated, read once by
     * JSSE when it starts), then asks a throwaway context whether the JDK now offers them. False, with the list put
     * back as it was, if not: JSSE had already started, or the JDK forbids them some other way.
     */
    static boolean allowLegacyTls(List<String> versions) {
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        if (disabled != null) {
            List<String> kept = Arrays.stream(disabled.split(",")).map(String::strip)
                    .filter(entry -> versions.stream().noneMatch(entry::equalsIgnoreCase)).toList();
            Security.setProperty("jdk.tls.disabledAlgorithms", String.join(", ", kept));
        }
        try {
            SSLContext probe = SSLContext.getInstance("TLS");
            probe.init(null, null, null);
            if (Arrays.asList(probe.getDefaultSSLParameters().getProtocols()).containsAll(versions)) return true;
        } catch (GeneralSecurityException noContext) {
            // then the JDK does not offer them either
        }
        if (disabled != null) Security.setProperty("jdk.tls.disabledAlgorithms", disabled);
        return false;
    }

    /** HOST:PORT, [IPv6]:PORT or [IPv6] in one argument, as a browser's address bar takes them. */
    private void splitHostPort() {
        Matcher given = Pattern.compile("\\[([^]]+)](?::(\\d{1,5}))?|([^:]+):(\\d{1,5})").matcher(host);
        if (!given.matches()) return;
        String portPart = given.group(2) != null ? given.group(2) : given.group(4);
        if (portPart != null && spec.commandLine().getParseResult().hasMatchedPositional(1)) {
            throw usage("the port is given twice: write HOST:PORT or HOST PORT, not both");
        }
        host = given.group(1) != null ? given.group(1) : given.group(3);
        if (portPart != null) port = Integer.parseInt(portPart);
    }

    /** SNI carries host names only, never IP addresses (RFC 6066). */
    private String sniName() {
        return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}") ? null : host;
    }

    // The fact only a JDK exception's message carries, read in this one place. The wording is the same from JDK 17
    // to 25, which only adds "(alert_name) " in front: the alert the server sent.
    static final Pattern RECEIVED_ALERT = Pattern.compile("Received fatal alert: (\\w+)");

    static String jdkFact(Pattern fact, Throwable e) {
        Matcher found = fact.matcher(String.valueOf(e.getMessage()));
        return found.find() ? found.group(1) : null;
    }

    static List<X509Certificate> certificates(byte[] pemOrDer) {
        try {
            List<X509Certificate> certs = new ArrayList<>();
            var factory = CertificateFactory.getInstance("X.509");
            for (var cert : factory.generateCertificates(new ByteArrayInputStream(pemOrDer))) {
                certs.add((X509Certificate) cert);
            }
            return certs;
        } catch (CertificateException notCertificates) {
            return new ArrayList<>();
        }
    }

    /** Issued by itself: the same name AND its own key verifies its signature (a same name alone proves nothing). */
    static boolean selfSigned(X509Certificate cert) {
        try {
            cert.verify(cert.getPublicKey());
            return cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    static String subjectAltNames(X509Certificate cert) throws CertificateParsingException {
        String[] types = {"otherName", "email", "DNS", "x400", "DirName", "ediParty", "URI", "IP", "RegisteredID"};
        List<String> names = new ArrayList<>();
        for (List<?> name : Objects.requireNonNullElse(cert.getSubjectAlternativeNames(), List.<List<?>>of())) {
            names.add(types[(Integer) name.get(0)] + ":" + name.get(1));
        }
        return names.isEmpty() ? "(none)" : String.join(", ", names);
    }

    static String publicKey(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) return "RSA " + rsa.getModulus().bitLength() + " bits";
        // The JDK's curve description starts with its standard name: "secp256r1 [NIST P-256,X9.62 prime256v1] (...)".
        if (key instanceof ECPublicKey ec) return "EC " + ec.getParams().toString().split("[ \\[(]")[0] + " ("
                + ec.getParams().getCurve().getField().getFieldSize() + " bits)";
        return key.getAlgorithm();
    }

    static String keyUsage(boolean[] bits) {
        String[] usages = {"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
            "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"};
        List<String> names = new ArrayList<>();
        for (int i = 0; bits != null && i < Math.min(bits.length, usages.length); i++) {
            if (bits[i]) names.add(usages[i]);
        }
        return bits == null ? "(absent: any use)" : String.join(", ", names);
    }

    static String extendedKeyUsage(List<String> oids) {
        Map<String, String> names = Map.of("1.3.6.1.5.5.7.3.1", "serverAuth", "1.3.6.1.5.5.7.3.2", "clientAuth",
                "1.3.6.1.5.5.7.3.3", "codeSigning", "1.3.6.1.5.5.7.3.4", "emailProtection", "1.3.6.1.5.5.7.3.8",
                "timeStamping", "1.3.6.1.5.5.7.3.9", "OCSPSigning", "2.5.29.37.0", "anyExtendedKeyUsage");
        if (oids == null) return "(absent: any purpose)";
        return String.join(", ", oids.stream().map(oid -> names.getOrDefault(oid, oid)).toList());
    }

    static String basicConstraints(int pathLength) {
        if (pathLength < 0) return "not a CA";
        return pathLength == Integer.MAX_VALUE ? "CA, no path length limit" : "CA, path length " + pathLength;
    }

    static String fingerprint(X509Certificate cert) throws GeneralSecurityException {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    }

    static String date(Date date) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC)
                .format(date.toInstant());
    }

    /** A terminal on stdin? Since JDK 22 there is a Console even when stdin is redirected, and isTerminal() tells. */
    static boolean isTerminal(Console console) {
        if (console == null) return false;
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException beforeJdk22) {
            return true;   // until JDK 21, a Console exists only when stdin and stdout are a terminal
        }
    }

    /** At a terminal, a long line wraps at its width (legible on a projector); piped, it stays one line. */
    private String wrapped(String line) {
        if (columns == null) columns = interactive ? terminalWidth() : 0;
        if (columns < 40 || line.length() <= columns) return line;
        return line.replaceAll("(.{1," + (columns - 5) + "})(?: +|$)", "$1\n    ").stripTrailing();   // words that fit
    }

    /** $COLUMNS if the shell exported it, else what stty says of the terminal; 0 if neither knows. */
    private static int terminalWidth() {
        try {
            String columns = System.getenv("COLUMNS");
            if (columns != null) return Integer.parseInt(columns.strip());
            Process stty = new ProcessBuilder("stty", "size").redirectInput(new File("/dev/tty"))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String[] size = new String(stty.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).split("\\s+");
            return stty.waitFor() == 0 && size.length == 2 ? Integer.parseInt(size[1]) : 0;
        } catch (IOException | InterruptedException | RuntimeException unknown) {
            return 0;
        }
    }

    private BufferedReader input() {
        if (input == null) input = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        return input;
    }

    private ParameterException usage(String message) { return new ParameterException(spec.commandLine(), message); }

    /** One or two plain lines on stderr, the stack trace only with --debug. */
    private int fail(int exitCode, Throwable cause, String what, String fix) {
        err.println(wrapped("error: " + what));
        err.println(wrapped("  " + fix));
        if (debug && cause != null) cause.printStackTrace(err);
        err.flush();
        return exitCode;
    }

    /** How main runs this command, tests too: a usage error in two lines, any other surprise in one. */
    static CommandLine commandLine(client command) {
        return new CommandLine(command).setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("error: " + e.getMessage() + "\nTry './jbang client.java --help'.");
            return ExitCode.USAGE;
        }).setExecutionExceptionHandler((e, commandLine, parsed) -> {
            commandLine.getErr().println("error: unexpected " + e + " (run with --debug for the stack trace)");
            if (parsed.hasMatchedOption("--debug")) e.printStackTrace(commandLine.getErr());
            return ExitCode.SOFTWARE;
        });
    }
}
