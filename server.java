///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES lib/Certificates.java

import java.io.*;
import java.net.*;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.*;
import java.security.cert.X509Certificate;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.*;
import picocli.CommandLine;
import picocli.CommandLine.*;
import picocli.CommandLine.Model.CommandSpec;

/** The lab's TLS echo server (lecture 8): every byte a client sends comes back, over TLS, with certgen.sh's certificate. */
@Command(name = "server", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = "TLS echo server of the lab: every byte a client sends comes straight back.",
        footer = {"%nExit codes: 0 stopped with Ctrl-C, 1 unexpected error, 2 usage error,",
                "  3 keystore/certificate/password problem,",
                "  4 cannot listen (port in use, no permission, bad --bind)."})
public class server implements Callable<Integer> {
    static final int BUFFER_SIZE = 16 * 1024;   // the most plaintext one TLS record carries
    static final int WORKER_KEEP_ALIVE_SECONDS = 5;

    enum Wrap { listen, accept }

    @Option(names = "--port", defaultValue = "8443", description = "TCP port, 0 = any free one (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "127.0.0.1 = this machine only, 0.0.0.0 = classmates too (default: ${DEFAULT-VALUE}).")
    String bind;
    @Option(names = "--keystore", defaultValue = "certs/server.p12", description = "Default: ${DEFAULT-VALUE}, by ./certgen.sh.")
    Path keystore;
    @Option(names = "--password-file",
            description = "File holding the keystore password (default: server.pass next to the keystore).")
    Path passwordFile;
    @Option(names = "--tls", defaultValue = "1.3,1.2", split = ",",
            description = "TLS versions to allow, from 1.0, 1.1, 1.2, 1.3 (default: ${DEFAULT-VALUE}).")
    List<String> tls;
    @Option(names = "--wrap", defaultValue = "listen", description = "listen: wrap the listening socket (lecture 8.2 "
            + "option 2); accept: wrap each accepted socket (option 1) (default: ${DEFAULT-VALUE}).")
    Wrap wrap;
    @Option(names = "--max-clients", defaultValue = "1024", description = "More are refused (default: ${DEFAULT-VALUE}).")
    int maxClients;
    @Option(names = "--handshake-timeout", defaultValue = "10", description = "Seconds (default: ${DEFAULT-VALUE}).")
    int handshakeTimeout;
    @Option(names = "--idle-timeout", defaultValue = "300", description = "Seconds of silence (default: ${DEFAULT-VALUE}).")
    int idleTimeout;
    @Option(names = "--debug", description = "Show the TLS handshake (javax.net.debug=ssl:handshake) and stack traces.")
    boolean debug;
    @Spec CommandSpec spec;

    public static void main(String... args) {
        System.exit(new CommandLine(new server()).setExecutionExceptionHandler(server::unexpected).execute(args));
    }

    @Override public Integer call() throws InterruptedException {
        // JSSE reads javax.net.debug once, when its first class loads: so this comes before anything else.
        if (debug) System.setProperty("javax.net.debug", "ssl:handshake");
        PrintWriter out = spec.commandLine().getOut();
        EchoServer server;
        try {
            server = newEchoServer(out);
            server.start();
        } catch (StartupProblem problem) {
            // 8.3 Cleaner programming: a start-up problem is the user's to fix, so say what and how; no stack trace.
            spec.commandLine().getErr().println("server: " + problem.getMessage() + "\n  Fix: " + problem.fix);
            if (debug) problem.printStackTrace(spec.commandLine().getErr());
            return problem.exitCode;
        }
        printBanner(out, server);
        // Ctrl-C and SIGTERM run this hook. A JVM stopped by a signal exits 130 or 143, but Ctrl-C is how this server
        // is meant to stop, so after the summary it reports success. stop() is false if something else stopped it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (server.stop()) {
                out.flush();
                Runtime.getRuntime().halt(ExitCode.OK);
            }
        }, "shutdown"));
        server.awaitStop();
        return ExitCode.OK;
    }

    /** Everything that can go wrong before listening: options, keystore, password, TLS context. Tests call this. */
    EchoServer newEchoServer(PrintWriter log) throws StartupProblem {
        if (port < 0 || port > 65535) throw usage("--port must be 0..65535, not " + port);
        if (maxClients < 1 || handshakeTimeout < 1 || idleTimeout < 1) {
            throw usage("--max-clients, --handshake-timeout and --idle-timeout must be at least 1");
        }
        List<String> protocols = protocolNames();
        boolean legacy = protocols.contains("TLSv1") || protocols.contains("TLSv1.1");
        if (legacy) allowLegacyProtocols(protocols);
        // A client may not renegotiate a TLS 1.2 session: each renegotiation costs the server a full handshake (a
        // denial-of-service lever, CVE-2011-1473). JSSE reads this once, so it is set before the SSLContext is made.
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");

        // 8.3: each step that can fail is caught where its cause is known, and says how to fix it.
        byte[] keystoreBytes;
        try {
            keystoreBytes = Files.readAllBytes(keystore);
        } catch (NoSuchFileException e) {
            throw new StartupProblem(3, "keystore " + keystore + " not found.",
                    "run ./certgen.sh first (it writes certs/server.p12 and certs/server.pass), or give --keystore.");
        } catch (IOException e) {
            throw new StartupProblem(3, "cannot read keystore " + keystore + ": " + e.getMessage(),
                    "check its path and permissions.");
        }
        char[] password = readPassword();
        KeyStore keyStore;
        try {
            keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(new ByteArrayInputStream(keystoreBytes), password);
        } catch (IOException | GeneralSecurityException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new StartupProblem(3, "wrong password for keystore " + keystore + ".",
                        "use the server.pass that certgen.sh wrote with it, or make a new pair: ./certgen.sh --force.");
            }
            throw new StartupProblem(3, keystore + " is not a PKCS12 keystore (" + e.getMessage() + ").",
                    "give --keystore the server.p12 made by ./certgen.sh.");
        }

        // 8.1 The TLS context. Python's create_default_context(Purpose.CLIENT_AUTH) + load_cert_chain() is, in Java,
        // a KeyManagerFactory holding the server's key and certificate (its identity) and an SSLContext made from it.
        // No TrustManager: this server does not ask clients for certificates.
        try {
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(keyStore, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            // Forward secrecy and authenticated encryption only: TLS 1.3's suites, and TLS 1.2's ECDHE suites with
            // GCM or ChaCha20. The JDK also enables older CBC suites by default; TLS 1.0/1.1 need them, so --tls 1.0 keeps them.
            String[] suites = Arrays.stream(context.getDefaultSSLParameters().getCipherSuites())
                    .filter(suite -> legacy || suite.matches("TLS_(AES|CHACHA20)_.*|TLS_ECDHE_.*_(GCM|CHACHA20_POLY1305)_.*"))
                    .toArray(String[]::new);
            return new EchoServer(this, context, serverCertificate(keyStore), protocols.toArray(String[]::new), suites, log);
        } catch (GeneralSecurityException e) {
            throw new StartupProblem(3, "cannot use the key in " + keystore + ": " + e.getMessage(),
                    "make a new one: ./certgen.sh --force.");
        }
    }

    /** The server proper: listens, gives each connection a worker thread, echoes. Tests start it on port 0. */
    static final class EchoServer implements AutoCloseable {
        private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
        private final server options;
        private final SSLContext context;
        final X509Certificate certificate;
        final String[] protocols, cipherSuites;
        private final PrintWriter log;
        private final Set<Client> clients = ConcurrentHashMap.newKeySet();
        private final LongAdder served = new LongAdder(), failedHandshakes = new LongAdder(), bytesEchoed = new LongAdder();
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final CountDownLatch done = new CountDownLatch(1);
        private ServerSocket listener;
        private ThreadPoolExecutor workers;

        EchoServer(server options, SSLContext context, X509Certificate certificate, String[] protocols, String[] cipherSuites,
                PrintWriter log) {
            this.options = options;
            this.context = context;
            this.certificate = certificate;
            this.protocols = protocols;
            this.cipherSuites = cipherSuites;
            this.log = log;
        }

        /** Binds, starts accepting in the background, and returns the port actually bound. */
        int start() throws StartupProblem {
            // 8.2 Wrap the socket, option 2 (--wrap listen): the context's factory makes the listening socket, whose
            // accept() returns SSLSockets. Option 1 (--wrap accept): a plain ServerSocket; serve() wraps what it accepts.
            try {
                listener = options.wrap == Wrap.listen ? context.getServerSocketFactory().createServerSocket() : new ServerSocket();
                if (listener instanceof SSLServerSocket tlsListener) {
                    tlsListener.setEnabledProtocols(protocols);
                    tlsListener.setEnabledCipherSuites(cipherSuites);
                }
                listener.setReuseAddress(true);   // a restarted server may listen at once, while old connections linger
                listener.bind(new InetSocketAddress(InetAddress.getByName(options.bind), options.port), options.maxClients);
            } catch (IOException e) {
                closeQuietly(listener);
                throw cannotListen(e, options.bind, options.port);
            }
            // No queue in front of the workers: past --max-clients a newcomer is turned away at once, never left waiting.
            String name = "tls-echo-" + listener.getLocalPort() + "-";
            workers = new ThreadPoolExecutor(0, options.maxClients, WORKER_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
                    new SynchronousQueue<>(), daemonThreads(name + "client-"));
            daemonThreads(name + "accept-").newThread(this::acceptLoop).start();
            daemonThreads(name + "watchdog-").newThread(this::watchdog).start();
            return listener.getLocalPort();
        }

        private void acceptLoop() {
            while (!stopped.get()) {
                Socket socket;
                try {
                    socket = listener.accept();
                } catch (IOException e) {
                    if (stopped.get()) return;
                    log("accept failed: " + e.getMessage());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));   // e.g. out of file descriptors: don't spin
                    continue;
                }
                try {
                    workers.execute(() -> serve(socket));
                } catch (RejectedExecutionException full) {
                    closeQuietly(socket);
                    if (stopped.get()) return;
                    log(peer(socket) + " refused: already serving " + options.maxClients + " clients (--max-clients)");
                }
            }
        }

        /** One client, on its own worker thread: wrap (option 1), handshake, echo until it leaves, one log line. */
        private void serve(Socket accepted) {
            Client client = new Client(accepted);
            String peer = peer(accepted);
            clients.add(client);
            Socket toClose = accepted;
            long bytes = 0;   // counted here and added to the total once: nothing shared is touched per read
            try {
                accepted.setTcpNoDelay(true);   // an echo is small and wanted now: don't let Nagle hold it back
                SSLSocket tls;
                if (accepted instanceof SSLSocket wrappedByListener) {
                    tls = wrappedByListener;
                } else {
                    // 8.2 Wrap the socket, option 1: TLS layered over the accepted socket (null: no bytes were read
                    // from it yet; true: closing the TLS socket closes the plain one). This variant of createSocket
                    // makes a server-side socket; setUseClientMode(false), Python's server_side=True, says so outright.
                    tls = (SSLSocket) context.getSocketFactory().createSocket(accepted, null, true);
                    tls.setUseClientMode(false);
                    tls.setEnabledProtocols(protocols);
                    tls.setEnabledCipherSuites(cipherSuites);
                    toClose = tls;
                }
                // The handshake. It runs here, never on the accept loop (which must keep accepting), and has a time
                // limit (the watchdog below), so a client that connects and says nothing cannot hold a worker for ever.
                try {
                    tls.startHandshake();
                } catch (IOException e) {
                    failedHandshakes.increment();
                    log(peer + " handshake failed after " + since(client.started) + ": " + whyHandshakeFailed(e, client));
                    if (options.debug) e.printStackTrace(log);
                    return;
                }
                served.increment();
                // The certificate: the client checked ours during the handshake; the session holds what was agreed.
                SSLSession session = tls.getSession();
                client.lastRead = System.nanoTime();
                client.handshakeDone = true;
                String ending = "closed by client";
                try {
                    InputStream in = tls.getInputStream();
                    OutputStream out = tls.getOutputStream();
                    byte[] buffer = new byte[BUFFER_SIZE];   // one fixed buffer: bounded memory, whatever a client sends
                    for (int n; (n = in.read(buffer)) != -1; ) {
                        client.lastRead = System.nanoTime();
                        out.write(buffer, 0, n);
                        out.flush();
                        bytes += n;
                    }
                } catch (IOException e) {
                    ending = whyEchoEnded(e);
                    if (options.debug) e.printStackTrace(log);
                }
                if (client.closedBecause != null) ending = client.closedBecause;
                log(peer + " " + session.getProtocol() + " " + session.getCipherSuite() + " echoed " + count(bytes, "byte") + " in "
                        + since(client.started) + ", " + ending);
            } catch (IOException e) {
                log(peer + " failed: " + e.getMessage());
            } finally {
                bytesEchoed.add(bytes);
                clients.remove(client);
                closeQuietly(toClose);
            }
        }

        /** 8.3 for connections: each failure becomes one plain log line, and the server keeps serving the others. */
        private String whyHandshakeFailed(IOException e, Client client) {
            String message = String.valueOf(e.getMessage());
            if (stopped.get()) return "server stopping";
            if (client.closedBecause != null) return client.closedBecause;
            if (message.matches(".*(certificate_unknown|bad_certificate|unknown_ca).*")) {
                return "the client rejected our certificate (" + message.replace("Received fatal alert: ", "")
                        + "): expected while it does not trust this self-signed certificate yet (give it certs/server.crt)";
            }
            if (message.contains("Unsupported or unrecognized SSL message")) {
                return "not a TLS client: it sent plaintext (an HTTP request? telnet? nc?)";
            }
            if (message.contains("protocol_version") || message.contains("not accepted by server")
                    || message.contains("not enabled or supported")) {
                Matcher offered = Pattern.compile("versions (\\[[^]]*])").matcher(message);
                return "protocol version mismatch: the client offers "
                        + (offered.find() ? offered.group(1) : "other versions") + ", this server allows "
                        + String.join(", ", protocols) + " (see --tls)";
            }
            if (message.contains("no cipher suites in common")) {
                return "no cipher suite in common (the client offered only weak or unknown ones)";
            }
            if (message.contains("Connection reset")) return "connection reset by the client";
            if (message.contains("Remote host terminated") || message.contains("shut down incorrectly")) {
                return "the client closed the connection during the handshake";
            }
            return message;
        }

        private String whyEchoEnded(IOException e) {
            String message = String.valueOf(e.getMessage());
            if (stopped.get()) return "closed: server stopping";
            if (message.contains("Connection reset")) return "reset by client";
            if (message.contains("Broken pipe")) return "client went away (broken pipe)";
            return "ended: " + message;
        }

        /** Stops accepting, closes every client, prints the summary. False if it was already stopped. */
        boolean stop() {
            if (!stopped.compareAndSet(false, true)) return false;
            closeQuietly(listener);
            clients.forEach(client -> abort(client.socket));   // ends each blocking read or write, so its worker returns
            if (workers != null) {
                workers.shutdown();
                try {
                    workers.awaitTermination(2, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            log.println("Stopped: " + count(served.sum(), "connection") + " served, "
                    + count(failedHandshakes.sum(), "failed handshake") + ", " + count(bytesEchoed.sum(), "byte") + " echoed.");
            done.countDown();
            return true;
        }

        @Override public void close() { stop(); }

        /** A connection as the watchdog sees it: its worker notes the time of every read. */
        private static final class Client {
            final Socket socket;
            final long started = System.nanoTime();
            volatile long lastRead = started;
            volatile boolean handshakeDone;
            volatile String closedBecause;   // the watchdog's reason, for the log line
            Client(Socket socket) { this.socket = socket; }
        }

        // The time limits. Not socket.setSoTimeout(): on Java 17 a read timeout switches the socket to non-blocking
        // mode for good, and from then on every read that finds nothing waiting costs a failed read, a poll and a
        // second read. One thread that looks at every connection four times a second costs the reads nothing.
        private void watchdog() {
            while (!stopped.get()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
                for (Client client : clients) {
                    boolean echoing = client.handshakeDone;
                    long silentSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - client.lastRead);
                    if (silentSeconds < (echoing ? options.idleTimeout : options.handshakeTimeout)) continue;
                    client.closedBecause = echoing ? "idle timeout (nothing for " + options.idleTimeout + " s)"
                            : "handshake timeout (no complete TLS handshake within " + options.handshakeTimeout + " s)";
                    abort(client.socket);
                }
            }
        }

        void awaitStop() throws InterruptedException { done.await(); }

        long served() { return served.sum(); }

        InetSocketAddress address() { return (InetSocketAddress) listener.getLocalSocketAddress(); }

        private void log(String line) {
            log.println(LocalTime.now().format(CLOCK) + " " + line);
        }
    }

    // Command-line polish below: the banner, error wording, option parsing. The TLS steps are all above.

    private static void printBanner(PrintWriter out, EchoServer server) {
        X509Certificate certificate = server.certificate;
        InetAddress address = server.address().getAddress();
        int port = server.address().getPort();
        out.println("Listening on " + hostPort(address, port) + " (" + String.join(", ", server.protocols) + ", wrap="
                + server.options.wrap + ")");
        out.println("  Certificate: " + certificate.getSubjectX500Principal().getName());
        out.println("  Names (SAN): " + String.join(", ", Certificates.subjectAltNames(certificate)));
        Date now = new Date();
        String expired = "  EXPIRED: clients will refuse it; make a new one with ./certgen.sh --force";
        String notYetValid = "  NOT YET VALID: clients will refuse it before " + certificate.getNotBefore().toInstant();
        String validity = certificate.getNotAfter().before(now) ? expired : certificate.getNotBefore().after(now) ? notYetValid : "";
        out.println("  Valid until: " + certificate.getNotAfter().toInstant() + validity);
        out.println("  SHA-256 fingerprint: " + Certificates.sha256Fingerprint(certificate));
        out.println(address.isLoopbackAddress()
                ? "  Reachable from this machine only (--bind 0.0.0.0 lets classmates connect)."
                : "  Reachable from other machines too: the certificate must name the address they use (--name).");
        if (!Collections.disjoint(Arrays.asList(server.protocols), List.of("TLSv1", "TLSv1.1"))) {
            out.println("  WARNING: legacy TLS versions are on (--tls): 1.0 and 1.1 are broken; only for demos.");
        }
        boolean localhost = address.isAnyLocalAddress() || address.getHostAddress().equals("127.0.0.1");
        out.println("  Try it: ./jbang client.java " + (localhost ? "localhost" : address.getHostAddress()) + " " + port
                + "    (stop the server with Ctrl-C)");
        out.flush();
    }

    /** A start-up problem the user can fix: its exit code, what went wrong (the message) and what to do. */
    static final class StartupProblem extends Exception {
        private static final long serialVersionUID = 1L;
        final int exitCode;
        final String fix;

        StartupProblem(int exitCode, String message, String fix) {
            super(message);
            this.exitCode = exitCode;
            this.fix = fix;
        }
    }

    private static StartupProblem cannotListen(IOException e, String bind, int port) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof UnknownHostException) {
            return new StartupProblem(4, "cannot resolve --bind " + bind + ".",
                    "use --bind 127.0.0.1 (this machine only) or --bind 0.0.0.0 (everyone).");
        }
        if (e instanceof BindException && message.contains("already in use")) {
            return new StartupProblem(4, "port " + port + " on " + bind + " is already in use (is another server running?).",
                    "stop that one, or choose another port: --port " + (port + 1) + " (or --port 0 for any free port).");
        }
        if (e instanceof BindException && message.contains("Permission denied")) {
            return new StartupProblem(4, "no permission to listen on port " + port + " (ports below 1024 need root).",
                    "use a port above 1023, e.g. --port 8443.");
        }
        if (e instanceof BindException && message.contains("assign requested address")) {
            return new StartupProblem(4, bind + " is not an address of this machine.",
                    "use --bind 127.0.0.1 (this machine only) or --bind 0.0.0.0 (everyone).");
        }
        return new StartupProblem(4, "cannot listen on " + bind + ":" + port + ": " + message, "check --bind and --port.");
    }

    /** "1.2", "TLSv1.2" or "tls1.2" become JSSE's name "TLSv1.2"; anything else is a usage error (exit 2). */
    private List<String> protocolNames() {
        Map<String, String> names = Map.of("1", "TLSv1", "1.0", "TLSv1", "1.1", "TLSv1.1", "1.2", "TLSv1.2",
                "1.3", "TLSv1.3");
        List<String> protocols = new ArrayList<>();
        for (String version : tls) {
            String name = names.get(version.strip().replaceFirst("(?i)^tls(v)?", ""));
            if (name == null) throw usage("--tls: unknown TLS version '" + version + "' (use 1.0, 1.1, 1.2 or 1.3)");
            if (!protocols.contains(name)) protocols.add(name);
        }
        return protocols;
    }

    // Java 17 switches TLS 1.0 and 1.1 off for the whole JVM, in the security property jdk.tls.disabledAlgorithms.
    // JSSE reads it once, when it first loads, so the versions asked for are taken out before any TLS class is used.
    private static void allowLegacyProtocols(List<String> protocols) {
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        Security.setProperty("jdk.tls.disabledAlgorithms", Arrays.stream(disabled.split(","))
                .map(String::strip).filter(name -> !protocols.contains(name)).collect(Collectors.joining(", ")));
    }

    private char[] readPassword() throws StartupProblem {
        Path file = passwordFile != null ? passwordFile : keystore.resolveSibling("server.pass");
        try {
            return Files.readString(file).replaceFirst("\\R$", "").toCharArray();
        } catch (NoSuchFileException e) {
            throw new StartupProblem(3, "password file " + file + " not found.",
                    "run ./certgen.sh (it writes the keystore and its password together), or give --password-file.");
        } catch (IOException e) {
            throw new StartupProblem(3, "cannot read password file " + file + ": " + e.getMessage(),
                    "check its path and permissions.");
        }
    }

    private static X509Certificate serverCertificate(KeyStore keyStore) throws GeneralSecurityException {
        for (String alias : Collections.list(keyStore.aliases())) {
            if (keyStore.isKeyEntry(alias)) return (X509Certificate) keyStore.getCertificate(alias);
        }
        throw new GeneralSecurityException("it holds no private key (is it a truststore?)");
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static String since(long startNanos) {
        long millis = (System.nanoTime() - startNanos) / 1_000_000;
        return millis < 10_000 ? millis + " ms" : millis / 1000 + " s";
    }

    private static String peer(Socket socket) {
        return hostPort(socket.getInetAddress(), socket.getPort());
    }

    private static String hostPort(InetAddress address, int port) {
        String host = address.getHostAddress();
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            if (closeable != null) closeable.close();
        } catch (Exception alreadyBroken) {
            // Closing a connection that already failed may fail too; it is closed either way.
        }
    }

    /**
     * Closes a client's connection at once. SO_LINGER 0 makes close() a reset that never waits: a plain close() of a
     * TLS socket waits for its write lock, held for ever by a worker stuck writing to a client that does not read.
     */
    private static void abort(Socket socket) {
        closeQuietly(() -> {
            socket.setSoLinger(true, 0);
            socket.close();
        });
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            // Daemon threads: a client stuck in a read can never keep the JVM alive after the server has stopped.
            Thread thread = new Thread(task, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Anything not handled above is a bug: one line, and the stack trace only with --debug. */
    private static int unexpected(Exception e, CommandLine commandLine, ParseResult parsed) {
        commandLine.getErr().println("server: unexpected error: " + e + " (run with --debug to see where)");
        if (((server) commandLine.getCommand()).debug) e.printStackTrace(commandLine.getErr());
        return ExitCode.SOFTWARE;
    }
}
