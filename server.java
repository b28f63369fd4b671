///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7

import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.security.*;
import java.security.cert.X509Certificate;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.*;
import javax.net.ssl.*;
import picocli.CommandLine;
import picocli.CommandLine.*;
import picocli.CommandLine.Model.CommandSpec;

/** The lab's TLS echo server (lecture 8): every byte a client sends comes back, over TLS. */
@Command(name = "server", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = "TLS echo server of the lab: every byte a client sends comes straight back.",
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:stopped with Ctrl-C", "1:unexpected error",
            "2:usage error", "3:keystore, certificate or password problem", "4:cannot listen (port taken, bad --bind)"})
public class server implements Callable<Integer> {
    static final int BUFFER_SIZE = 16 * 1024;   // the most plaintext one TLS record carries
    static final int WORKER_KEEP_ALIVE_SECONDS = 5;

    enum Wrap { listen, accept }

    @Option(names = "--port", defaultValue = "8443", description = "0: any free port (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "127.0.0.1 = this machine only, 0.0.0.0 = classmates too (default: ${DEFAULT-VALUE}).")
    String bind;
    @Option(names = "--keystore", defaultValue = "certs/server.p12", description = "Default: ${DEFAULT-VALUE}.")
    Path keystore;
    @Option(names = "--password-file", description = "The keystore's password (default: server.pass beside it).")
    Path passwordFile;
    @Option(names = "--tls", defaultValue = "1.3,1.2", split = ",",
            description = "TLS versions to allow, from 1.0, 1.1, 1.2, 1.3 (default: ${DEFAULT-VALUE}).")
    List<String> tls;
    @Option(names = "--wrap", defaultValue = "listen", description = "listen: wrap the listening socket (lecture 8.2 "
            + "option 2); accept: wrap each accepted socket (option 1) (default: ${DEFAULT-VALUE}).")
    Wrap wrap;
    @Option(names = "--max-clients", defaultValue = "1024", description = "Beyond: refused (default: ${DEFAULT-VALUE})")
    int maxClients;
    @Option(names = "--handshake-timeout", defaultValue = "10", description = "Seconds (default: ${DEFAULT-VALUE}).")
    int handshakeTimeout;
    @Option(names = "--idle-timeout", defaultValue = "300", description = "Seconds (default: ${DEFAULT-VALUE}).")
    int idleTimeout;
    @Option(names = "--debug", description = "Show the handshake (javax.net.debug=ssl:handshake) and stack traces.")
    boolean debug;
    @Spec CommandSpec spec;

    SSLContext context;
    X509Certificate certificate;
    String[] protocols, cipherSuites;
    boolean legacy;   // TLS 1.0 or 1.1 asked for, and the JDK offers it
    private PrintWriter log;
    private ServerSocket listener;
    private ThreadPoolExecutor workers;
    private Semaphore places;   // --max-clients of them; each client holds one until its connection is closed
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final LongAdder served = new LongAdder(), failedHandshakes = new LongAdder(), bytesEchoed = new LongAdder();
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);

    public static void main(String... args) {
        System.exit(commandLine(new server()).execute(args));
    }

    @Override public Integer call() throws Exception {
        if (debug) System.setProperty("javax.net.debug", "ssl:handshake");   // JSSE reads it once: set it first
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try {
            start(out);
        } catch (StartupProblem problem) {
            // 8.3 Cleaner programming: a start-up problem is the user's to fix, so say what and how; no stack trace.
            err.println("server: " + problem.getMessage());
            if (debug) problem.printStackTrace(err);
            return problem.exitCode;
        }
        printBanner(out);
        // Ctrl-C and SIGTERM run this hook. Ctrl-C is how this server is meant to stop: after the summary it exits 0.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stop()) Runtime.getRuntime().halt(ExitCode.OK);
        }, "shutdown"));
        done.await();
        return ExitCode.OK;
    }

    /** Makes the TLS context, listens, and starts serving in the background; returns the port. Tests call this. */
    int start(PrintWriter log) throws StartupProblem {
        this.log = log;
        legacy = checkOptions();
        context = tlsContext();
        cipherSuites = cipherSuites(context, legacy);
        listener = listen();
        // A thread per client, kept a while for the next one (a new thread per handshake costs ~15% of the rate).
        // A place per client: past --max-clients a newcomer is turned away at once, never left waiting.
        places = new Semaphore(maxClients);
        workers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, WORKER_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), task -> daemon("client", task));
        daemon("accept", this::acceptLoop).start();
        daemon("watchdog", this::watchdog).start();
        return listener.getLocalPort();
    }

    /**
     * 8.1 The TLS context. Python's create_default_context(Purpose.CLIENT_AUTH) + load_cert_chain() is, in Java, a
     * KeyStore (the PKCS12 file holding the server's key and certificate: its identity), a KeyManagerFactory that
     * serves them, and an SSLContext made from it. 8.3: each failure says what is wrong and how to fix it.
     */
    private SSLContext tlsContext() throws StartupProblem {
        Path passwordPath = passwordFile != null ? passwordFile : keystore.resolveSibling("server.pass");
        try (InputStream keystoreFile = Files.newInputStream(keystore)) {
            char[] password = Files.readString(passwordPath).strip().toCharArray();
            KeyStore keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(keystoreFile, password);
            certificate = servedCertificate(keyStore);
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(keyStore, password);
            SSLContext context = SSLContext.getInstance("TLS");
            // null trust managers mean the JDK's default ones; unused, as this server asks no client for a certificate
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (NoSuchFileException e) {
            throw new StartupProblem(3, (e.getFile().equals(keystore.toString()) ? "keystore " : "password file ")
                    + e.getFile() + " not found.", "run ./certgen.sh first (it writes the keystore certs/server.p12 "
                    + "and its password file certs/server.pass), or give --keystore (and --password-file).");
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new StartupProblem(3, "wrong password for keystore " + keystore + ".", "use the server.pass that "
                        + "certgen.sh wrote with it, or make a new pair: " + certgen(keystore) + ".");
            }
            throw new StartupProblem(3, keystore + " is not a PKCS12 keystore (or cannot be read).",
                    "give --keystore the server.p12 made by ./certgen.sh, and check the files' permissions.");
        } catch (GeneralSecurityException e) {
            throw new StartupProblem(3, "cannot use the key in " + keystore + ".", "make a new one: "
                    + certgen(keystore));
        }
    }

    /**
     * 8.2 Wrap the socket, option 2 (--wrap listen): the context's factory makes the listening socket, whose
     * accept() returns SSLSockets. Option 1 (--wrap accept): a plain listener; serve() wraps what it accepts.
     */
    private ServerSocket listen() throws StartupProblem {
        ServerSocket socket = null;
        try {
            socket = wrap == Wrap.listen ? context.getServerSocketFactory().createServerSocket() : new ServerSocket();
            if (socket instanceof SSLServerSocket tlsListener) {
                tlsListener.setEnabledProtocols(protocols);
                tlsListener.setEnabledCipherSuites(cipherSuites);
            }
            socket.setReuseAddress(true);   // a restarted server may listen at once, while old connections linger
            socket.bind(new InetSocketAddress(InetAddress.getByName(bind), port), maxClients);
            return socket;
        } catch (IOException e) {
            close(socket, false);
            throw cannotListen(e);
        }
    }

    private void acceptLoop() {
        while (!stopped.get()) {
            try {
                Socket socket = listener.accept();
                if (!places.tryAcquire()) {
                    close(socket, true);
                    log(peer(socket) + " refused: already serving " + maxClients + " clients (--max-clients)");
                    continue;
                }
                try {
                    workers.execute(() -> serve(socket));
                } catch (RejectedExecutionException stopping) {
                    places.release();
                    close(socket, true);
                    return;
                }
            } catch (IOException e) {
                if (stopped.get()) return;
                log("accept failed: " + e.getMessage());
                LockSupport.parkNanos(100_000_000);   // out of file descriptors, say: don't spin
            }
        }
    }

    /** One client, on its own thread: wrap (option 1), handshake, echo until it leaves, one log line. */
    private void serve(Socket accepted) {
        Client client = new Client(accepted);
        clients.add(client);
        Socket toClose = accepted;
        String outcome = null;   // the log line, written once this client's place is free again
        try {
            if (stopped.get()) return;   // accepted while stop() was closing the others
            accepted.setTcpNoDelay(true);   // an echo is small and wanted now: don't let Nagle hold it back
            SSLSocket tls = accepted instanceof SSLSocket wrappedByListener ? wrappedByListener : wrap(accepted);
            toClose = tls;
            // The handshake, here and never on the accept loop (which must keep accepting), with a time limit
            // (the watchdog), so a client that connects and says nothing cannot hold a thread for ever.
            try {
                tls.startHandshake();
            } catch (IOException e) {
                failedHandshakes.increment();
                outcome = peer(accepted) + " handshake failed after " + since(client.started) + ": "
                        + whyHandshakeFailed(e, client);
                if (debug) e.printStackTrace(log);
                return;
            }
            // The certificate: the client checked ours during the handshake; the session holds what was agreed.
            SSLSession session = tls.getSession();
            if (session.getProtocol().equals("TLSv1.2") && session.getCipherSuite().contains("_CBC_")) {
                // JSSE has one suite list for all versions: the CBC suites --tls 1.0 adds are for TLS 1.0/1.1 only.
                failedHandshakes.increment();
                outcome = peer(accepted) + " TLSv1.2 with " + session.getCipherSuite()
                        + " closed: CBC is for TLS 1.0/1.1";
                return;
            }
            served.increment();
            client.handshakeDone = true;
            String echoed = echo(tls, client);
            outcome = peer(accepted) + " " + session.getProtocol() + " " + session.getCipherSuite() + " " + echoed;
        } catch (IOException e) {
            outcome = peer(accepted) + " failed: " + e.getClass().getSimpleName();
        } finally {
            clients.remove(client);
            close(toClose, false);
            places.release();   // first: whoever reads the log line below may connect again at once
            if (outcome != null) log(outcome);
        }
    }

    /**
     * 8.2 Wrap the socket, option 1: TLS layered over the accepted socket (null: no bytes were read from it yet;
     * true: closing the TLS socket closes the plain one). setUseClientMode(false) is Python's server_side=True.
     */
    private SSLSocket wrap(Socket accepted) throws IOException {
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(accepted, null, true);
        tls.setUseClientMode(false);
        tls.setEnabledProtocols(protocols);
        tls.setEnabledCipherSuites(cipherSuites);
        return tls;
    }

    /** Every byte back as it came, through one fixed buffer (bounded memory); returns how it went, for the log. */
    private String echo(SSLSocket tls, Client client) {
        long bytes = 0;
        String ending = "closed by client";
        try (InputStream in = tls.getInputStream(); OutputStream out = tls.getOutputStream()) {
            byte[] buffer = new byte[BUFFER_SIZE];
            for (int n; (n = in.read(buffer)) != -1; bytes += n) {
                client.lastActive = System.nanoTime();
                out.write(buffer, 0, n);
                client.lastActive = System.nanoTime();   // a client slowly reading a long echo is not idle
            }
        } catch (IOException e) {
            ending = stopped.get() ? "closed: server stopping" : e instanceof SocketException
                    ? "the client went away (connection reset)" : "ended: " + e.getClass().getSimpleName();
            if (debug) e.printStackTrace(log);
        }
        bytesEchoed.add(bytes);
        return "echoed " + count(bytes, "byte") + " in " + since(client.started) + ", "
                + (client.closedBecause != null ? client.closedBecause : ending);
    }

    /** 8.3 for connections: each failure is one plain log line, and the server keeps serving the others. */
    private String whyHandshakeFailed(IOException e, Client client) {
        if (stopped.get()) return "server stopping";
        if (client.closedBecause != null) return client.closedBecause;
        String alert = jdkFact(RECEIVED_ALERT, e), offered = jdkFact(OFFERED_VERSIONS, e);
        if (alert != null && alert.matches("bad_certificate|unsupported_certificate|certificate_\\w+|unknown_ca")) {
            // Only the client knows which of its checks failed: the server can only list them.
            Date now = new Date();
            if (certificate.getNotAfter().before(now) || certificate.getNotBefore().after(now)) {
                return "the client rejected our certificate (alert " + alert + "): it is out of date, probably why";
            }
            return "the client rejected our certificate (alert " + alert + "): it may not trust it yet (give it "
                    + keystore.resolveSibling("server.crt") + "), or the name it dialled or the dates";
        }
        if (alert != null) return "the client aborted the handshake (alert " + alert + ")";
        if (offered != null) {
            return "protocol version mismatch: the client offers [" + offered + "], this server allows "
                    + String.join(", ", protocols) + " (see --tls)";
        }
        if (jdkFact(NO_COMMON_SUITE, e) != null) return "no cipher suite in common (the client offered only weak ones)";
        if (e.getCause() instanceof EOFException) return "the client closed the connection during the handshake";
        if (e instanceof SocketException) return "connection reset by the client";
        if (e instanceof SSLException && !(e instanceof SSLHandshakeException)) {
            return "not a TLS client: it sent plaintext (an HTTP request? telnet? nc?)";
        }
        return e.getClass().getSimpleName() + " (run with --debug to see the JDK's reason)";
    }

    // The facts only a JDK exception's message carries, read in this one place. The wording is the same from JDK 17
    // to 25, which only adds "(alert_name) " in front: the alert a client sent, the versions it offered.
    static final Pattern RECEIVED_ALERT = Pattern.compile("Received fatal alert: (\\w+)"),
            OFFERED_VERSIONS = Pattern.compile("protocol (?:versions )?\\[?([\\w.]+(?:, [\\w.]+)*)]? (?:is|are) not"),
            NO_COMMON_SUITE = Pattern.compile("(no cipher suites in common)");

    static String jdkFact(Pattern fact, Throwable e) {
        Matcher found = fact.matcher(String.valueOf(e.getMessage()));
        return found.find() ? found.group(1) : null;
    }

    /** A connection as the watchdog sees it: its thread notes the time of every read and write. */
    private static final class Client {
        final Socket socket;
        final long started = System.nanoTime();
        volatile long lastActive = started;
        volatile boolean handshakeDone;
        volatile String closedBecause;   // the watchdog's reason, for the log line
        Client(Socket socket) { this.socket = socket; }
    }

    // The time limits. Not socket.setSoTimeout(): on JDK 17 a read timeout makes the socket non-blocking for good,
    // and every read that finds nothing waiting then costs a failed read, a poll and a second read; and a write
    // never times out. One thread that looks at every connection four times a second costs the echo nothing.
    private void watchdog() {
        while (!stopped.get()) {
            LockSupport.parkNanos(250_000_000);
            for (Client client : clients) {
                boolean echoing = client.handshakeDone;
                long silentSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - client.lastActive);
                if (silentSeconds < (echoing ? idleTimeout : handshakeTimeout)) continue;
                client.closedBecause = echoing ? "idle timeout (nothing for " + idleTimeout + " s)"
                        : "handshake timeout (no complete TLS handshake within " + handshakeTimeout + " s)";
                close(client.socket, true);
            }
        }
    }

    /** Stops accepting, closes every client, prints the summary. False if it was already stopped. */
    boolean stop() {
        if (!stopped.compareAndSet(false, true)) return false;
        close(listener, false);
        clients.forEach(client -> close(client.socket, true));   // ends each blocking read or write: its thread returns
        if (workers != null) {
            workers.shutdown();
            try {
                workers.awaitTermination(2, TimeUnit.SECONDS);   // for their last log lines
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        log.println("Stopped: " + count(served.sum(), "connection") + " served, " + count(failedHandshakes.sum(),
                "failed handshake") + ", " + count(bytesEchoed.sum(), "byte") + " echoed.");
        log.flush();
        done.countDown();
        return true;
    }

    long served() { return served.sum(); }

    InetSocketAddress address() { return (InetSocketAddress) listener.getLocalSocketAddress(); }

    ServerSocket listener() { return listener; }

    // Command-line polish below: start-up checks and their wording, the banner. The TLS steps are all above.

    /** A start-up problem the user can fix: what went wrong, what to do, and the exit code. */
    static final class StartupProblem extends Exception {
        final int exitCode;

        StartupProblem(int exitCode, String what, String fix) {
            super(what + "\n  Fix: " + fix);
            this.exitCode = exitCode;
        }
    }

    /** The checks picocli cannot make; sets the --tls versions in JSSE's names ("1.2" is "TLSv1.2"); true if legacy. */
    private boolean checkOptions() {
        if (port < 0 || port > 65535) throw usage("--port must be 0..65535, not " + port);
        if (maxClients < 1 || handshakeTimeout < 1 || idleTimeout < 1) {
            throw usage("--max-clients, --handshake-timeout and --idle-timeout must be at least 1");
        }
        List<String> versions = new ArrayList<>();
        for (String version : tls) {
            String number = version.strip().replaceFirst("(?i)^tlsv?", "");
            if (!number.matches("1(\\.[0-3])?")) throw usage("--tls: unknown TLS version '" + version + "' (1.0-1.3)");
            String name = number.equals("1") || number.equals("1.0") ? "TLSv1" : "TLSv" + number;
            if (!versions.contains(name)) versions.add(name);
        }
        protocols = versions.toArray(String[]::new);
        // A client may not renegotiate a TLS 1.2 session: each renegotiation costs the server a full handshake (a
        // denial-of-service lever, CVE-2011-1473). JSSE reads this once, so it is set before the SSLContext is made.
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        // The JDK switches TLS 1.0 and 1.1 off: they are allowed again before any TLS class loads (the listener
        // then allows only the versions asked for).
        List<String> old = versions.stream().filter(name -> name.matches("TLSv1(\\.1)?")).toList();
        if (!old.isEmpty() && !allowLegacyTls(old)) {
            throw usage("--tls: this JDK does not offer " + String.join(" or ", old.stream().map(name -> name
                    .equals("TLSv1") ? "TLS 1.0" : "TLS 1.1").toList()) + " here, even for this run (JSSE had already "
                    + "started, or the JDK's security settings forbid it); leave them out of --tls");
        }
        return !old.isEmpty();
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

    /**
     * Forward secrecy and authenticated encryption only: TLS 1.3's suites and TLS 1.2's ECDHE suites with GCM or
     * ChaCha20 (the JDK also enables CBC suites). TLS 1.0 and 1.1 have no AEAD suite: for them (--tls 1.0) the
     * ECDHE CBC suites are added, never static RSA.
     */
    static String[] cipherSuites(SSLContext context, boolean legacy) {
        return Arrays.stream(context.getDefaultSSLParameters().getCipherSuites())
                .filter(suite -> suite.matches("TLS_(AES|CHACHA20)_.*|TLS_ECDHE_\\w+_(GCM_\\w+|CHACHA20_\\w+)")
                        || legacy && suite.matches("TLS_ECDHE_(ECDSA|RSA)_WITH_AES_(128|256)_CBC_SHA"))
                .toArray(String[]::new);
    }

    /** The one key's certificate: with two, JSSE would choose per client, and the banner could show the wrong one. */
    private X509Certificate servedCertificate(KeyStore keyStore) throws StartupProblem, KeyStoreException {
        List<String> keys = new ArrayList<>();
        for (String alias : Collections.list(keyStore.aliases())) if (keyStore.isKeyEntry(alias)) keys.add(alias);
        if (keys.size() == 1) return (X509Certificate) keyStore.getCertificate(keys.get(0));
        throw new StartupProblem(3, keystore + " holds " + keys.size() + " private keys " + keys + ", not one.",
                "give --keystore a keystore with exactly one key, as ./certgen.sh makes.");
    }

    private StartupProblem cannotListen(IOException e) {
        String message = String.valueOf(e.getMessage()), useBind = "use --bind 127.0.0.1 (here) or 0.0.0.0 (all).";
        if (e instanceof UnknownHostException) return new StartupProblem(4, "cannot resolve --bind " + bind, useBind);
        if (message.contains("already in use")) {
            return new StartupProblem(4, "port " + port + " on " + bind + " is already in use (is another server "
                    + "running?).", "stop that one, or choose another port: --port " + (port + 1)
                    + " (or --port 0 for any free port).");
        }
        if (message.contains("Permission denied")) {
            return new StartupProblem(4, "no permission to listen on port " + port + " (ports below 1024 need root).",
                    "use a port above 1023, e.g. --port 8443.");
        }
        if (message.contains("assign requested address")) {
            return new StartupProblem(4, bind + " is not an address of this machine.", useBind);
        }
        return new StartupProblem(4, "cannot listen on " + bind + ":" + port + ".", "check --bind and --port.");
    }

    /** The command that renews this keystore's set, naming its folder when it is not certgen.sh's default. */
    static String certgen(Path keystore) {
        Path folder = Objects.requireNonNullElse(keystore.getParent(), Path.of("."));
        return "./certgen.sh --force" + (folder.equals(Path.of("certs")) ? "" : " --out " + folder);
    }

    void printBanner(PrintWriter out) throws IOException, GeneralSecurityException {
        InetAddress address = address().getAddress();
        Date now = new Date();
        out.println("Listening on " + hostPort(address, address().getPort()) + " (" + String.join(", ", protocols)
                + ", wrap=" + wrap + ")");
        out.println("  Certificate: " + certificate.getSubjectX500Principal().getName());
        out.println("  Names (SAN): " + subjectAltNames(certificate));
        out.println("  Valid until: " + certificate.getNotAfter().toInstant() + (certificate.getNotAfter().before(now)
                ? "  EXPIRED: clients will refuse it; make a new one with " + certgen(keystore)
                : certificate.getNotBefore().after(now)
                ? "  NOT YET VALID: clients will refuse it before " + certificate.getNotBefore().toInstant() : ""));
        out.println("  SHA-256 fingerprint: " + sha256Fingerprint(certificate));
        if (address.isLoopbackAddress()) {
            out.println("  Reachable from this machine only (--bind 0.0.0.0 lets classmates connect).");
        } else {
            printClassroomAddresses(out, address);
        }
        if (legacy) {   // only when the JDK really offers them: start() refuses otherwise
            out.println("  WARNING: legacy TLS versions are on (--tls): 1.0 and 1.1 are broken; only for demos.");
        }
        boolean localhost = address.isAnyLocalAddress() || address.getHostAddress().equals("127.0.0.1");
        Path crt = keystore.resolveSibling("server.crt");   // a client trusts certs/server.crt by itself, not others
        out.println("  Try it: ./jbang client.java " + (localhost ? "localhost" : address.getHostAddress()) + " "
                + address().getPort() + (crt.equals(Path.of("certs", "server.crt")) ? "" : " --trust " + crt)
                + "    (stop the server with Ctrl-C)");
        out.flush();
    }

    /** Bound beyond loopback: the addresses classmates can dial, whether the certificate names each, and the fix. */
    private void printClassroomAddresses(PrintWriter out, InetAddress bound)
            throws IOException, GeneralSecurityException {
        List<InetAddress> addresses = new ArrayList<>(), named = new ArrayList<>();
        List<String> names = new ArrayList<>(), missing = new ArrayList<>();
        for (InetAddress address : bound.isAnyLocalAddress() ? machineAddresses() : List.of(bound)) {
            // 0.0.0.0 takes IPv4 connections only; :: takes both.
            if (bound instanceof Inet4Address && address instanceof Inet6Address) continue;
            addresses.add(address);
        }
        for (List<?> name : Objects.requireNonNullElse(certificate.getSubjectAlternativeNames(), List.<List<?>>of())) {
            String value = name.get(1).toString();
            if (name.get(0).equals(7)) named.add(InetAddress.getByName(value));   // an address literal: no lookup
            if (!value.matches("localhost|127\\.0\\.0\\.1|0:0:0:0:0:0:0:1")) names.add(value);
        }
        out.println("  Classmates can connect to" + (addresses.isEmpty() ? ": (no address but loopback found)" : ":"));
        for (InetAddress address : addresses) {
            String literal = address.getHostAddress().replaceFirst("%.*", "");
            if (!named.contains(address)) missing.add(literal);
            out.printf("    %-18s %s%n", literal, named.contains(address) ? "(named in the certificate)"
                    : "NOT in the certificate: dialled, it fails the name check");
        }
        names.addAll(missing);
        if (!missing.isEmpty()) {
            out.println("  To add the missing ones: " + certgen(keystore) + " --name " + String.join(" --name ", names)
                    + ", then restart the server.");
        }
    }

    /** This machine's addresses that another machine could use: up interfaces, no loopback or link-local ones. */
    private static List<InetAddress> machineAddresses() throws SocketException {
        return NetworkInterface.networkInterfaces().filter(server::isUp)
                .flatMap(NetworkInterface::inetAddresses)
                .filter(address -> !address.isLoopbackAddress() && !address.isLinkLocalAddress()).toList();
    }

    private static boolean isUp(NetworkInterface card) {
        try {
            return card.isUp();
        } catch (SocketException gone) {
            return false;
        }
    }

    static String subjectAltNames(X509Certificate cert) throws GeneralSecurityException {
        List<String> names = new ArrayList<>();
        for (List<?> name : Objects.requireNonNullElse(cert.getSubjectAlternativeNames(), List.<List<?>>of())) {
            names.add((name.get(0).equals(7) ? "IP:" : name.get(0).equals(2) ? "DNS:" : "") + name.get(1));
        }
        return String.join(", ", names);
    }

    static String sha256Fingerprint(X509Certificate cert) throws GeneralSecurityException {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
    }

    private ParameterException usage(String message) { return new ParameterException(spec.commandLine(), message); }

    /** How main runs this command, tests too: a usage error in two lines, any other surprise in one. */
    static CommandLine commandLine(server command) {
        return new CommandLine(command).setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("error: " + e.getMessage() + "\nTry './jbang server.java --help'.");
            return ExitCode.USAGE;
        }).setExecutionExceptionHandler((e, commandLine, parsed) -> {
            commandLine.getErr().println("server: unexpected error: " + e + " (run with --debug to see where)");
            if (((server) commandLine.getCommand()).debug) e.printStackTrace(commandLine.getErr());
            return ExitCode.SOFTWARE;
        });
    }

    private void log(String line) {
        log.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " " + line);
    }

    private static String count(long n, String noun) { return n + " " + noun + (n == 1 ? "" : "s"); }

    private static String since(long startNanos) {
        long millis = (System.nanoTime() - startNanos) / 1_000_000;
        return millis < 10_000 ? millis + " ms" : millis / 1000 + " s";
    }

    private static String peer(Socket socket) { return hostPort(socket.getInetAddress(), socket.getPort()); }

    private static String hostPort(InetAddress address, int port) {
        String host = address.getHostAddress();
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * Closes quietly: a broken connection may fail to close, and is closed either way. With abort, at once: SO_LINGER
     * 0 makes close() a reset that never waits for the TLS socket's write lock (held by a writer to a silent client).
     */
    private static void close(Closeable closeable, boolean abort) {
        try {
            if (abort && closeable instanceof Socket socket) socket.setSoLinger(true, 0);
            if (closeable != null) closeable.close();
        } catch (IOException alreadyBroken) {
        }
    }

    /** Daemon threads: a client stuck in a read can never keep the JVM alive after the server has stopped. */
    private Thread daemon(String role, Runnable task) {
        Thread thread = new Thread(task, "tls-echo-" + listener.getLocalPort() + "-" + role);
        thread.setDaemon(true);
        return thread;
    }
}
