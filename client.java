///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES lib/Certificates.java lib/CertificateReport.java lib/KnownServers.java lib/TrustSource.java
//SOURCES lib/RecordingTrustManager.java

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The lab's TLS echo client: verifies the server's certificate, prints it, then echoes what you type. */
@Command(name = "client", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = "Connects to the TLS echo server, verifies its certificate (chain and host name), "
                + "prints the certificate and the session, then sends each line you type and prints the echo.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:unexpected error", "2:usage error", "3:cannot connect (refused, unknown host, timeout)",
            "4:certificate not trusted, or changed since it was stored", "5:host name does not match the certificate",
            "6:certificate expired or not yet valid", "7:TLS protocol problem (no common version, not a TLS server)",
            "8:connection lost or echo mismatch", "9:trust file problem (missing, unreadable, empty)"})
public class client implements Callable<Integer> {
    static final int OK = 0, CANNOT_CONNECT = 3, NOT_TRUSTED = 4, NAME_MISMATCH = 5, EXPIRED = 6,
            PROTOCOL = 7, CONNECTION_LOST = 8, TRUST_FILE = 9;

    enum TrustNew { ask, yes, no }

    @Parameters(index = "0", arity = "0..1", defaultValue = "localhost", paramLabel = "HOST",
            description = "server host name or IP address (default: ${DEFAULT-VALUE})")
    String host;

    @Parameters(index = "1", arity = "0..1", defaultValue = "8443", paramLabel = "PORT", description = "server port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--trust", paramLabel = "FILE", description = {"trust the certificates in FILE: PEM (one or more) or a "
            + "PKCS12/JKS trust store; repeatable.", "Default: certs/server.crt if it exists here, else the JDK's cacerts."})
    List<Path> trustFiles = new ArrayList<>();

    @Option(names = "--trust-password-file", paramLabel = "FILE", description = "password of a PKCS12/JKS --trust store")
    Path trustPasswordFile;

    @Option(names = "--known-servers", paramLabel = "FILE",
            description = "certificates you accepted at the prompt (default: ~/.tls-echo-lab/known_servers.pem)")
    Path knownServersFile = KnownServers.DEFAULT_FILE;

    @Option(names = "--trust-new", paramLabel = "ask|yes|no", description = "when the certificate is not trusted: ask, "
            + "trust and store it (yes), or fail (no). Default: ask on a terminal, no otherwise.")
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

    /** Where typed lines and the answer to the trust prompt come from; tests replace both. */
    InputStream stdin = System.in;
    boolean interactive = System.console() != null;

    private PrintWriter out, err;
    private BufferedReader input;
    private TrustSource trust;
    private RecordingTrustManager checker;
    private String stage = "connect";

    public static void main(String... args) {
        System.exit(new CommandLine(new client()).setExecutionExceptionHandler(client::unexpected).execute(args));
    }

    @Override public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        // Must be set before the first JSSE class loads: the JDK reads it once.
        if (debug) System.setProperty("javax.net.debug", "ssl:handshake");
        String[] protocols = protocols();
        String server = KnownServers.key(host, port);
        try {
            // 8.1 The TLS context (purpose: verify the server). Java has no create_default_context(SERVER_AUTH): the
            // purpose is what we give SSLContext.init: trust managers to check the server, no key of our own to show.
            KnownServers known = new KnownServers(knownServersFile);
            X509Certificate stored = known.find(server);
            trust = TrustSource.load(trustFiles, trustPasswordFile);
            if (stored != null) trust = trust.plus(stored, server + " in " + knownServersFile);
            if (!quiet) out.printf("Connecting to %s (%s), trusting %s%n", server, String.join(", ", protocols), trust.description());

            for (int attempt = 1; ; attempt++) {
                checker = new RecordingTrustManager(trust.trustManager(), stored);
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, new TrustManager[] {checker}, null);

                // 8.2 Wrap first, then connect: the TLS socket is made unconnected and connects itself, as in the
                // lecture. (Java's other way, createSocket(plainSocket, host, port, true), layers TLS over a socket
                // that must ALREADY be connected, unlike Python's wrap_socket.)
                SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
                socket.setSSLParameters(parameters(protocols));
                try {
                    stage = "connect";
                    socket.connect(new InetSocketAddress(host, port), timeoutSeconds * 1000);
                    socket.setSoTimeout(timeoutSeconds * 1000);

                    // The handshake: explicit, so certificate problems show up here and not at the first write.
                    stage = "handshake";
                    socket.startHandshake();
                } catch (SSLHandshakeException e) {
                    socket.close();
                    // The lecture's browser flow: show the certificate, ask, store it, then a second attempt with a
                    // NEW context (the trust manager copied its anchors when it was made) and all the checks.
                    if (attempt == 1 && offerToTrust(known, server)) {
                        stored = checker.chain()[0];
                        trust = trust.plus(stored, server + " in " + knownServersFile);
                        continue;
                    }
                    throw e;
                } catch (IOException e) {
                    socket.close();
                    throw e;
                }

                try (socket) {
                    // Credit task: print the certificate, then the session.
                    if (!quiet) {
                        Certificate[] chain = socket.getSession().getPeerCertificates();
                        CertificateReport.print(out, Arrays.copyOf(chain, chain.length, X509Certificate[].class));
                        printSession(socket);
                    }
                    stage = "echo";
                    return echo(socket);
                }
            }
        // 8.3 Cleaner programming: each failure a student can cause becomes a short explanation and its own exit code.
        } catch (TrustSource.Problem e) {
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
        } catch (SSLException e) {
            return notTls(e, server);
        } catch (IOException e) {
            if (stage.equals("connect")) {
                return fail(CANNOT_CONNECT, e, "cannot connect to " + server + ": " + e.getMessage(),
                        "Check the address and the network (the lab runs on this machine: localhost).");
            }
            return fail(CONNECTION_LOST, e, "connection lost during the " + stage + ": " + e.getMessage(),
                    "The server closed the connection or went away; is it still running? (see its log)");
        }
    }

    /** Sends each line (from --message, else stdin), prints the echo, compares it; "quit" or end of input ends. */
    private int echo(SSLSocket socket) throws IOException {
        OutputStream toServer = socket.getOutputStream();
        var fromServer = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        boolean prompt = interactive && messages.isEmpty();
        if (prompt) out.println("Type a line to send it; \"quit\" or end of input (Ctrl-D) closes the connection.");
        var lines = messages.iterator();
        while (true) {
            if (prompt) {
                out.print("> ");
                out.flush();
            }
            String line = messages.isEmpty() ? input().readLine() : lines.hasNext() ? lines.next() : null;
            if (line == null || line.equals("quit")) break;
            toServer.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            toServer.flush();
            String echo = fromServer.readLine();
            if (echo == null) throw new EOFException("the server closed the connection instead of echoing \"" + line + "\"");
            out.println("echo: " + echo);
            if (!echo.equals(line)) {
                return fail(CONNECTION_LOST, null, "echo mismatch: sent \"" + line + "\" but received \"" + echo + "\".",
                        "The server changed the data: is it really an echo server?");
            }
        }
        if (!quiet) out.println("Closing the connection (TLS close_notify).");
        return OK;
    }

    /** The browser flow's question; true when the certificate was accepted and stored, so a second attempt follows. */
    private boolean offerToTrust(KnownServers known, String server) throws IOException, TrustSource.Problem {
        TrustNew mode = trustNew != null ? trustNew : interactive ? TrustNew.ask : TrustNew.no;
        if (mode == TrustNew.no || !checker.offerable()) return false;
        X509Certificate cert = checker.chain()[0];
        out.println("The server's certificate is not trusted (trust source: " + trust.description() + "):");
        for (String line : CertificateReport.details(cert)) out.println("  " + line);
        out.println("Compare this fingerprint with the \"SHA-256 fingerprint:\" line the server printed when it started.");
        if (mode == TrustNew.ask) {
            out.print("Trust this certificate? [y/N] ");
            out.flush();
            String answer = input().readLine();
            if (answer == null || !answer.strip().toLowerCase().matches("y|yes")) {
                out.println("Not trusted.");
                return false;
            }
        } else {
            out.println("Trusting it (--trust-new yes).");
        }
        try {
            known.add(server, cert);
        } catch (IOException e) {
            throw new TrustSource.Problem("cannot store the certificate in " + known.file + ": " + e.getMessage(),
                    "Choose a file you can write with --known-servers FILE.");
        }
        out.println("Stored it in " + known.file + " for " + server + "; connecting again with full chain and host-name checks.");
        return true;
    }

    /** Names why the handshake failed, from the certificate check's own exception when there was one. */
    private int handshakeFailed(SSLHandshakeException e, String server) {
        X509Certificate[] chain = checker.chain();
        Throwable problem = checker.failure() != null ? checker.failure() : e;
        if (problem instanceof RecordingTrustManager.CertificateChangedException changed) {
            return fail(NOT_TRUSTED, e, "the certificate of " + server + " has CHANGED since you trusted it: possible "
                    + "man-in-the-middle attack! Stored: SHA-256 " + Certificates.sha256Fingerprint(changed.stored)
                    + "; now: SHA-256 " + Certificates.sha256Fingerprint(chain[0]) + ".",
                    "Only if the server really has a new certificate (e.g. ./certgen.sh --force), remove the entry "
                    + "\"# " + server + " ...\" and its PEM block from " + knownServersFile + ", then connect again.");
        }
        X509Certificate expired = outOfDate(chain);
        if (has(problem, CertificateExpiredException.class) || has(problem, CertificateNotYetValidException.class)) {
            if (expired == null) expired = chain[0];
            boolean early = expired.getNotBefore().after(new Date());
            return fail(EXPIRED, e, (expired == chain[0] ? "the server's certificate " : "the certificate " + expired.getSubjectX500Principal() + " in the chain ")
                    + (early ? "is not valid yet" : "has expired") + ": valid from " + CertificateReport.date(expired.getNotBefore())
                    + " to " + CertificateReport.date(expired.getNotAfter()) + " (now: " + CertificateReport.date(new Date()) + ").",
                    early ? "Check this computer's clock, or make a certificate valid from now: ./certgen.sh --force"
                          : "Make a new certificate (./certgen.sh --force) and restart the server.");
        }
        if (RecordingTrustManager.untrusted(problem)) return untrusted(e, chain);
        String message = String.valueOf(problem.getMessage());
        if (checker.failure() != null && message.matches("(?s).*(No subject alternative|No name matching).*")) {
            List<String> names = Certificates.subjectAltNames(chain[0]);
            return fail(NAME_MISMATCH, e, "the certificate is not valid for the name you dialled: " + host + ". It is valid for: "
                    + (names.isEmpty() ? "(no subject alternative names; the CN " + chain[0].getSubjectX500Principal() + " does not count)" : String.join(", ", names)) + ".",
                    "Connect with one of those names, or make a certificate for this one: ./certgen.sh --force --name " + host);
        }
        if (checker.failure() != null) {
            return fail(NOT_TRUSTED, e, "the server's certificate was rejected: " + message,
                    "Check the certificate chain the server sends (run with --debug to see the JDK's reasons).");
        }
        if (has(e, EOFException.class)) {
            return fail(CONNECTION_LOST, e, "the server closed the connection during the TLS handshake.",
                    "It may not accept what this client offers (TLS " + String.join(", ", tlsVersions) + "): see the server's log.");
        }
        return notTls(e, server);
    }

    /** "PKIX path building failed", translated: which certificate, why not trusted, and how to trust it. */
    private int untrusted(SSLHandshakeException e, X509Certificate[] chain) {
        X509Certificate top = chain[chain.length - 1];
        String which = "the server's certificate " + chain[0].getSubjectX500Principal() + " ("
                + (CertificateReport.isSelfSigned(chain[0]) ? "self-signed" : "issued by " + chain[0].getIssuerX500Principal()
                + (chain.length > 1 ? ", chain ending at " + top.getSubjectX500Principal() : "")) + ", SHA-256 fingerprint " + Certificates.sha256Fingerprint(chain[0]) + ")";
        String fix = "To trust it, compare that fingerprint with the one the server printed at start, then connect with "
                + "--trust FILE (its certificate, e.g. --trust certs/server.crt) or answer yes at the prompt (--trust-new ask).";
        if (checker.notOfferable() != null) {
            fix = "It cannot be trusted here anyway: " + checker.notOfferable().getMessage();
        }
        String sameName = "";
        for (X509Certificate anchor : trust.anchors()) {
            if (anchor.getSubjectX500Principal().equals(top.getIssuerX500Principal())) {
                sameName = " (it trusts a DIFFERENT certificate with the same name: was the server's certificate re-made?)";
            }
        }
        return fail(NOT_TRUSTED, e, "not trusted: " + which + " is not signed by anything in the trust source: "
                + trust.description() + sameName + ".", fix);
    }

    private int timedOut(SocketTimeoutException e, String server) {
        return switch (stage) {
            case "connect" -> fail(CANNOT_CONNECT, e, "no answer from " + server + " within " + timeoutSeconds + " s (connect timeout).",
                    "Is the address right and reachable? A firewall may be dropping the connection.");
            case "handshake" -> fail(PROTOCOL, e, server + " accepted the connection but did not answer the TLS handshake within "
                    + timeoutSeconds + " s.", "Is it a TLS server? A plain TCP server waits for text and never answers a ClientHello.");
            default -> fail(CONNECTION_LOST, e, "no echo from " + server + " within " + timeoutSeconds + " s.",
                    "Is the server still running? Try a longer --timeout.");
        };
    }

    private int notTls(SSLException e, String server) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("protocol_version") || message.contains("No appropriate protocol")) {
            return fail(PROTOCOL, e, "no TLS version in common with " + server + ": this client offers "
                    + String.join(", ", tlsVersions) + " (" + message + ").",
                    "Upgrade the server; or offer other versions with --tls (1.0 and 1.1 are obsolete and insecure).");
        }
        if (message.contains("Unsupported or unrecognized SSL message") || message.contains("Unexpected handshake message")) {
            return fail(PROTOCOL, e, server + " is not speaking TLS (its first bytes were not a TLS server hello).",
                    "Is it a plain TCP server (e.g. last week's echo server)? Use the TLS server's port.");
        }
        return fail(PROTOCOL, e, "the TLS handshake with " + server + " failed: " + message,
                "Run with --debug to see the JDK's handshake log.");
    }

    /** TLS 1.3 and 1.2 by default; "1.0"/"1.1" only by explicit choice, with the JDK's ban lifted for this run. */
    private String[] protocols() {
        List<String> protocols = new ArrayList<>();
        for (String version : tlsVersions) {
            String v = version.strip().replaceFirst("(?i)^TLSv?", "");
            protocols.add(switch (v) {
                case "1.3", "1.2", "1.1" -> "TLSv" + v;
                case "1.0", "1" -> "TLSv1";
                default -> throw new ParameterException(spec.commandLine(), "--tls: unknown TLS version '" + version + "' (use 1.3, 1.2, 1.1 or 1.0)");
            });
        }
        if (port < 1 || port > 65535) throw new ParameterException(spec.commandLine(), "PORT must be 1-65535, not " + port);
        if (timeoutSeconds < 1) throw new ParameterException(spec.commandLine(), "--timeout must be at least 1 second");
        if (sniName() != null) {
            try {
                new SNIHostName(sniName());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "HOST '" + host + "' is neither a host name nor an IP address");
            }
        }
        if (protocols.contains("TLSv1") || protocols.contains("TLSv1.1")) allowLegacyVersions();
        return protocols.toArray(String[]::new);
    }

    /**
     * The JDK disables TLS 1.0/1.1 (RFC 8996) in the security property jdk.tls.disabledAlgorithms, which JSSE reads
     * once when it starts: so it is changed here, before the first SSLContext, for this run only.
     */
    private void allowLegacyVersions() {
        List<String> kept = new ArrayList<>();
        for (String entry : Security.getProperty("jdk.tls.disabledAlgorithms").split(",")) {
            if (!entry.strip().matches("TLSv1(\\.1)?")) kept.add(entry.strip());
        }
        Security.setProperty("jdk.tls.disabledAlgorithms", String.join(", ", kept));
        err.println("warning: TLS 1.0 and 1.1 are obsolete and insecure; allowed for this run only.");
    }

    /** Host-name checking always on (raw JSSE sockets skip it!), SNI for host names, the chosen TLS versions. */
    private SSLParameters parameters(String[] protocols) {
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(protocols);
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (sniName() != null) parameters.setServerNames(List.of(new SNIHostName(sniName())));
        return parameters;
    }

    /** SNI carries host names only, never IP addresses (RFC 6066). */
    private String sniName() {
        boolean ipAddress = host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        return ipAddress ? null : host;
    }

    private void printSession(SSLSocket socket) {
        SSLSession session = socket.getSession();
        out.println("Session:");
        out.println("  TLS version: " + session.getProtocol());
        out.println("  Cipher suite: " + session.getCipherSuite());
        out.println("  Peer: " + KnownServers.key(host, port) + " (" + socket.getInetAddress().getHostAddress() + ")");
        out.println("  SNI sent: " + (sniName() != null ? sniName() : "none (" + host + " is an IP address)"));
        out.println("  Host name checked: " + host);
        out.println("  Trust source: " + trust.description());
    }

    /** The chain member whose dates are not valid now, or null. */
    private static X509Certificate outOfDate(X509Certificate[] chain) {
        if (chain == null) return null;
        for (X509Certificate cert : chain) {
            try {
                cert.checkValidity();
            } catch (CertificateExpiredException | CertificateNotYetValidException e) {
                return cert;
            }
        }
        return null;
    }

    private static boolean has(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) if (type.isInstance(t)) return true;
        return false;
    }

    private BufferedReader input() {
        if (input == null) input = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        return input;
    }

    /** One or two plain lines on stderr, the stack trace only with --debug. */
    private int fail(int exitCode, Throwable cause, String what, String fix) {
        err.println("error: " + what);
        err.println("  " + fix);
        if (debug && cause != null) cause.printStackTrace(err);
        err.flush();
        return exitCode;
    }

    /** Anything not foreseen above: one line, exit 1 (picocli's IExecutionExceptionHandler). */
    static int unexpected(Exception e, CommandLine commandLine, CommandLine.ParseResult parsed) {
        commandLine.getErr().println("error: unexpected " + e + " (run with --debug for the stack trace)");
        if (parsed.hasMatchedOption("--debug")) e.printStackTrace(commandLine.getErr());
        return CommandLine.ExitCode.SOFTWARE;
    }
}
