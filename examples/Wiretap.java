///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7

import java.io.*;
import java.net.*;
import java.nio.ByteBuffer;
import java.nio.charset.*;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.regex.*;
import javax.net.ssl.*;
import picocli.CommandLine;
import picocli.CommandLine.*;
import picocli.CommandLine.Model.CommandSpec;

/** A TCP relay between a client and a server that shows what crosses the wire: plaintext, or TLS records. */
@Command(name = "Wiretap", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = {"Relays TCP connections from --listen to --to, unchanged, and prints what crosses the wire: "
                + "plain text as text, other bytes as a hex dump, TLS as its records (what travels in clear).",
                "With --mitm it is a man in the middle: it ends the client's TLS with its own certificate, connects "
                + "to the server with TLS (verified), and prints the decrypted data."},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:stopped with Ctrl-C", "1:unexpected error",
            "2:usage error", "3:--mitm keystore, password or --trust file problem", "4:cannot listen",
            "5:unknown --to host"})
public class Wiretap implements Callable<Integer> {
    static final int BUFFER_SIZE = 16 * 1024, CONNECT_TIMEOUT_MS = 10_000;
    static final int MAX_RECORD = 16 * 1024 + 2048;   // the longest TLS record (RFC 5246 6.2.3)
    static final int MAX_MESSAGE = 64 * 1024;         // longer handshake messages are named, not parsed

    @Option(names = "--listen", required = true, paramLabel = "PORT", description = "Port to listen on (0: any).")
    int listenPort;
    @Option(names = "--to", required = true, paramLabel = "HOST:PORT", description = "The server to relay to.")
    String to;
    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;
    @Option(names = "--mitm", paramLabel = "KEYSTORE", description = "Decrypt: end the client's TLS with the "
            + "key and certificate in this PKCS12 keystore (make one with: ./certgen.sh --out certs-mitm).")
    Path mitmKeystore;
    @Option(names = "--password-file", paramLabel = "FILE", description = "The keystore's password "
            + "(default: server.pass beside it).")
    Path passwordFile;
    @Option(names = "--trust", paramLabel = "FILE", defaultValue = "certs/server.crt",
            description = "With --mitm: the real server's certificate, checked (default: ${DEFAULT-VALUE}).")
    Path trustFile;
    @Option(names = "--dump", paramLabel = "BYTES", defaultValue = "256",
            description = "At most this many bytes shown per chunk (default: ${DEFAULT-VALUE}).")
    int dumpLimit;
    @Option(names = "--max-connections", defaultValue = "64", paramLabel = "N",
            description = "Beyond: refused (default: ${DEFAULT-VALUE}).")
    int maxConnections;
    @Spec CommandSpec spec;

    private PrintWriter out;
    private InetSocketAddress target;
    private SSLContext towardsClient, towardsServer;   // --mitm only
    private ServerSocket listener;
    private Semaphore freeSlots;
    private final AtomicInteger connections = new AtomicInteger();
    private final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(String... args) {
        System.exit(commandLine(new Wiretap()).execute(args));
    }

    @Override public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Matcher hostPort = Pattern.compile("(.+):(\\d{1,5})").matcher(to);
        if (!hostPort.matches() || Integer.parseInt(hostPort.group(2)) > 65535) throw usage("--to must be HOST:PORT");
        if (listenPort < 0 || listenPort > 65535) throw usage("--listen must be a port, 0..65535");
        if (dumpLimit < 0 || maxConnections < 1) throw usage("--dump must be 0 or more, --max-connections 1 or more");
        try {
            int port = Integer.parseInt(hostPort.group(2));
            target = new InetSocketAddress(InetAddress.getByName(hostPort.group(1)), port);
        } catch (UnknownHostException e) {
            err.println("Wiretap: unknown host in --to " + to + ": check the name (the lab runs on localhost).");
            return 5;
        }
        List<String> mitmNotes = List.of();
        try {
            if (mitmKeystore != null) mitmNotes = makeMitmContexts();
        } catch (IOException | GeneralSecurityException e) {
            err.println("Wiretap: " + e.getMessage());
            return 3;
        }
        try {
            listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getByName(bind), listenPort), 50);
        } catch (IOException e) {   // BindException: in use, below 1024, or not our address; classified by type
            err.println("Wiretap: cannot listen on " + bind + ":" + listenPort + " (" + e.getClass().getSimpleName()
                    + (e instanceof BindException ? ": port in use, below 1024, or --bind not this machine's)"
                    : ")") + ": stop the other program, or choose another --listen port.");
            return 4;
        }
        freeSlots = new Semaphore(maxConnections);
        out.println("Wiretap listening on " + bind + ":" + listener.getLocalPort() + ", relaying to " + to
                + (mitmKeystore == null ? " (bytes unchanged)" : " as a MAN IN THE MIDDLE (decrypting)"));
        mitmNotes.forEach(out::println);
        out.println("  Stop it with Ctrl-C.");
        out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {   // Ctrl-C, SIGTERM: a summary, then exit 0
            close(listener);
            synchronized (out) {
                out.println("Wiretap stopped after " + connections.get() + " connection(s).");
                out.flush();
            }
            stopped.countDown();
            Runtime.getRuntime().halt(0);
        }));
        daemon("accept", this::acceptLoop).start();
        stopped.await();
        return 0;
    }

    // ---- The relay: two threads per connection, each copying one direction through a fixed buffer. ----

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                int id = connections.incrementAndGet();
                if (!freeSlots.tryAcquire()) {
                    print(id, "refused: already relaying " + maxConnections + " connections (--max-connections)");
                    close(client);
                    continue;
                }
                daemon("connection " + id, () -> {
                    try {
                        connect(id, client);
                    } finally {
                        freeSlots.release();
                    }
                }).start();
            } catch (IOException e) {
                if (listener.isClosed()) return;
            }
        }
    }

    /** Opens the connection to the server (with --mitm: a TLS handshake on each side first), then relays. */
    private void connect(int id, Socket accepted) {
        Socket client = accepted, server = null;
        print(id, "connection from " + accepted.getInetAddress().getHostAddress() + ":" + accepted.getPort());
        try {
            if (towardsClient != null) client = handshakeWithClient(id, accepted);
            server = towardsServer != null ? towardsServer.getSocketFactory().createSocket() : new Socket();
            if (server instanceof SSLSocket tls) tls.setSSLParameters(verifying(tls.getSSLParameters()));
            server.connect(target, CONNECT_TIMEOUT_MS);
            if (server instanceof SSLSocket tls) tls.startHandshake();   // the server's certificate is checked here
        } catch (HandshakeRefused e) {
            print(id, e.getMessage());
            close(accepted);
            return;
        } catch (IOException e) {
            print(id, "cannot reach " + to + ": " + whyNoServer(e));
            close(client);
            close(server);
            return;
        }
        var connection = new Connection(id, client, server);
        boolean decrypted = towardsClient != null;
        daemon("c2s " + id, () -> pump(connection, "client -> server", connection.client, connection.server,
                decrypted)).start();
        pump(connection, "server -> client", connection.server, connection.client, decrypted);
    }

    /** One connection's two sockets; the direction that finishes last closes both and prints the summary. */
    private final class Connection {
        final int id;
        final Socket client, server;
        final AtomicInteger open = new AtomicInteger(2);
        final Map<String, Long> bytes = new ConcurrentHashMap<>();
        volatile boolean tls13;   // the server chose TLS 1.3: all that follows its ServerHello is encrypted

        Connection(int id, Socket client, Socket server) {
            this.id = id;
            this.client = client;
            this.server = server;
        }

        void finished(String direction, long count) {
            bytes.put(direction, count);
            if (open.decrementAndGet() > 0) return;
            close(client);
            close(server);
            print(id, "closed: " + bytes.get("client -> server") + " bytes client -> server, "
                    + bytes.get("server -> client") + " bytes server -> client");
        }
    }

    /** Copies one direction until its end, passing the end on (a half-close), and shows each chunk first. */
    private void pump(Connection connection, String direction, Socket from, Socket to, boolean decrypted) {
        Inspector inspector = new Inspector(connection, direction.startsWith("server"));
        long count = 0;
        try {
            InputStream in = from.getInputStream();
            OutputStream forward = to.getOutputStream();
            byte[] buffer = new byte[BUFFER_SIZE];
            for (int n; (n = in.read(buffer)) != -1; count += n) {
                // Shown before it is passed on: the other direction may depend on what this parser has learnt.
                List<String> lines = decrypted ? dump(buffer, 0, n) : inspector.show(buffer, n);
                print(connection.id, direction + (decrypted ? " (decrypted by the tap)" : "") + ", " + n
                        + " bytes:", lines);
                forward.write(buffer, 0, n);   // exactly the bytes read: the relay never changes them
            }
            if (!to.isClosed()) to.shutdownOutput();   // "no more from this side": the other keeps talking
        } catch (IOException e) {   // reset, or the other direction closed both sockets: end this connection
            if (!from.isClosed() && !to.isClosed()) print(connection.id, direction + ": connection lost ("
                    + e.getClass().getSimpleName() + ")");
            close(from);
            close(to);
        } finally {
            connection.finished(direction, count);
        }
    }

    // ---- --mitm: the tap's own TLS towards the client, and a verified TLS connection to the real server. ----

    /** The two TLS contexts of a man in the middle; returns what to tell the user about the tap's certificate. */
    private List<String> makeMitmContexts() throws IOException, GeneralSecurityException {
        Path passwordPath = passwordFile != null ? passwordFile : mitmKeystore.resolveSibling("server.pass");
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(mitmKeystore)) {
            char[] password = Files.readString(passwordPath).strip().toCharArray();
            keys.load(in, password);
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, password);
            towardsClient = SSLContext.getInstance("TLS");
            towardsClient.init(keyManagers.getKeyManagers(), null, null);
        } catch (NoSuchFileException e) {
            throw new IOException(e.getFile() + " not found: make the interceptor's set with ./certgen.sh --out "
                    + "certs-mitm, and give --mitm certs-mitm/server.p12.");
        } catch (IOException | GeneralSecurityException e) {
            throw new IOException("cannot open " + mitmKeystore + " with the password in " + passwordPath
                    + " (wrong password, or not a PKCS12 keystore).");
        }
        // The tap checks the real server as a careful client does: only the certificate in --trust, and its name.
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(trustFile)) {
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("trusted " + trusted.size(), certificate);
            }
        } catch (IOException | CertificateException e) {
            throw new IOException("no certificate read from --trust " + trustFile + ": give the real server's .crt.");
        }
        if (trusted.size() == 0) throw new IOException("no certificate in --trust " + trustFile + ".");
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(trusted);
        towardsServer = SSLContext.getInstance("TLS");
        towardsServer.init(null, trust.getTrustManagers(), null);
        X509Certificate ours = (X509Certificate) keys.getCertificate(keys.aliases().nextElement());
        byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(ours.getEncoded());
        return List.of("  The tap shows clients its own certificate, " + ours.getSubjectX500Principal().getName(),
                "  SHA-256 fingerprint: " + HexFormat.ofDelimiter(":").withUpperCase().formatHex(sha256),
                "  (not the server's: a client that compares fingerprints notices the man in the middle)");
    }

    /** The host-name check and SNI for the real server, as client.java sets them (raw JSSE sockets check no name). */
    private SSLParameters verifying(SSLParameters parameters) {
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        String host = to.substring(0, to.lastIndexOf(':'));
        if (!host.matches("[\\d.]+|.*:.*")) parameters.setServerNames(List.of(new SNIHostName(host)));
        return parameters;
    }

    private SSLSocket handshakeWithClient(int id, Socket accepted) throws IOException {
        SSLSocket tls = (SSLSocket) towardsClient.getSocketFactory().createSocket(accepted, null, true);
        tls.setUseClientMode(false);
        try {
            tls.setSoTimeout(CONNECT_TIMEOUT_MS);
            tls.startHandshake();
            tls.setSoTimeout(0);
            print(id, "TLS with the client: " + tls.getSession().getProtocol() + " (the client accepted the tap's "
                    + "certificate)");
            return tls;
        } catch (IOException e) {
            throw new HandshakeRefused(e instanceof SocketTimeoutException ? "no TLS handshake from the client in 10 s"
                    : e instanceof SSLHandshakeException ? "the client refused the tap's certificate (or shares no "
                    + "TLS version with it): a client that checks certificates stops the man in the middle here"
                    : "the client's TLS handshake failed (" + e.getClass().getSimpleName() + ": not TLS?)");
        }
    }

    static final class HandshakeRefused extends IOException {
        HandshakeRefused(String message) { super(message); }
    }

    /** Why the server cannot be reached, told by the exception's type (the JDK's wording differs by version). */
    private String whyNoServer(IOException e) {
        if (e instanceof ConnectException) return "connection refused (is the server running, on that port?)";
        if (e instanceof SocketTimeoutException) return "no answer within " + CONNECT_TIMEOUT_MS / 1000 + " s";
        if (causedBy(e, CertPathBuilderException.class) || causedBy(e, CertPathValidatorException.class)) {
            return "its certificate is not the one in --trust " + trustFile + " (not verified: not relayed)";
        }
        if (causedBy(e, CertificateException.class)) return "its certificate is not valid for the name in --to";
        if (e instanceof SSLException) return "TLS with the server failed (" + e.getClass().getSimpleName() + ")";
        return e.getClass().getSimpleName();
    }

    static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) if (type.isInstance(cause)) return true;
        return false;
    }

    // ---- What is shown: plain chunks as text or a hex dump, TLS as records. Nothing here changes the bytes. ----

    /** Reads one direction: TLS records if its first bytes are a TLS record header, otherwise plain chunks. */
    private final class Inspector {
        final Connection connection;
        final boolean fromServer;
        Boolean tls;   // decided on the first bytes
        final byte[] header = new byte[5], body = new byte[MAX_RECORD];
        int headerFill, bodyFill, bodyLength;
        boolean changedCipher;   // this side sent ChangeCipherSpec: in TLS 1.2 its later records are encrypted
        boolean saidTls13;
        final byte[] pending = new byte[MAX_MESSAGE + 4];   // handshake bytes not yet a whole message
        int pendingLength, skip;

        Inspector(Connection connection, boolean fromServer) {
            this.connection = connection;
            this.fromServer = fromServer;
        }

        List<String> show(byte[] data, int n) {
            if (tls == null) tls = (data[0] >= 20 && data[0] <= 23) && (n < 2 || data[1] == 3);
            if (!tls) return dump(data, 0, n);
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < n; ) {
                if (headerFill < 5) {
                    int k = Math.min(5 - headerFill, n - i);
                    System.arraycopy(data, i, header, headerFill, k);
                    headerFill += k;
                    i += k;
                    if (headerFill < 5) break;
                    bodyLength = u16(header, 3);
                    bodyFill = 0;
                    if (header[0] < 20 || header[0] > 24 || header[1] != 3 || bodyLength > MAX_RECORD) {
                        // Never guess: from here on this direction is shown as raw bytes.
                        lines.add("  not a TLS record header (" + HexFormat.of().formatHex(header) + "): the rest "
                                + "of this direction is shown as it is");
                        tls = false;
                        lines.addAll(dump(data, i, n - i));
                        return lines;
                    }
                }
                int k = Math.min(bodyLength - bodyFill, n - i);
                System.arraycopy(data, i, body, bodyFill, k);
                bodyFill += k;
                i += k;
                if (bodyFill == bodyLength) {   // a whole record, perhaps gathered over several reads
                    record(lines);
                    headerFill = 0;
                }
            }
            return lines;
        }

        private void record(List<String> lines) {
            int type = header[0];
            String name = "  TLS record: " + switch (type) {
                case 20 -> "change_cipher_spec";
                case 21 -> "alert";
                case 22 -> "handshake";
                case 23 -> "application data";
                default -> "heartbeat";
            } + ", " + version(u16(header, 1)) + ", " + bodyLength + (bodyLength == 1 ? " byte" : " bytes");
            boolean encrypted = changedCipher && !connection.tls13;   // TLS 1.2 after ChangeCipherSpec
            if (type == 20) {
                changedCipher = true;
                lines.add(name + (connection.tls13 ? " (TLS 1.3 sends it only for old middleboxes; it changes nothing)"
                        : ": from here on this side's records are encrypted"));
            } else if (type == 21) {
                lines.add(name + (encrypted || bodyLength != 2 ? " (encrypted)"
                        : ": " + (body[0] == 2 ? "fatal" : "warning") + ", " + alert(body[1] & 0xff)));
            } else if (type == 22 && encrypted) {
                lines.add(name + " (encrypted: the Finished message, after ChangeCipherSpec)");
            } else if (type == 22) {
                lines.add(name);
                handshakeBytes(lines);
            } else if (type == 23) {
                lines.add("  application data, " + bodyLength + " bytes (encrypted): "
                        + HexFormat.ofDelimiter(" ").formatHex(body, 0, Math.min(16, bodyLength))
                        + (bodyLength > 16 ? " ..." : ""));
                if (connection.tls13 && !saidTls13) {
                    saidTls13 = true;
                    lines.add("    (TLS 1.3: every record after ServerHello is labelled application data; the rest of"
                            + " the handshake travels inside, encrypted)");
                }
            } else {
                lines.add(name);
            }
        }

        /** Handshake messages span records: gather them, and parse each whole one. */
        private void handshakeBytes(List<String> lines) {
            for (int i = 0; i < bodyLength; ) {
                if (skip > 0) {
                    int k = Math.min(skip, bodyLength - i);
                    skip -= k;
                    i += k;
                    continue;
                }
                int k = Math.min(bodyLength - i, pending.length - pendingLength);
                System.arraycopy(body, i, pending, pendingLength, k);
                pendingLength += k;
                i += k;
                while (pendingLength >= 4) {
                    int type = pending[0] & 0xff, length = (pending[1] & 0xff) << 16 | u16(pending, 2);
                    if (length > MAX_MESSAGE) {
                        lines.add("    " + messageName(type) + ", " + length + " bytes (too long to show)");
                        skip = length - (pendingLength - 4);
                        pendingLength = 0;
                        break;
                    }
                    if (pendingLength < 4 + length) break;   // the rest comes in the next record
                    lines.add("    " + message(type, ByteBuffer.wrap(pending, 4, length).slice()));
                    pendingLength -= 4 + length;
                    System.arraycopy(pending, 4 + length, pending, 0, pendingLength);
                }
            }
        }

        /** One handshake message: its name, and what it shows in clear. */
        private String message(int type, ByteBuffer m) {
            String name = messageName(type) + ", " + m.remaining() + " bytes";
            try {
                if (type == 1) return name + clientHello(m);
                if (type == 2) return name + serverHello(m);
                if (type == 11 && !connection.tls13) return name + certificate(m);
            } catch (RuntimeException malformed) {   // BufferUnderflowException, bad lengths: not a valid message
                return name + " (malformed)";
            }
            return name;
        }

        private String clientHello(ByteBuffer m) {
            m.position(2 + 32);   // legacy version, random
            skip(m, u8(m));       // session id
            int suites = u16(m) / 2;
            skip(m, suites * 2);
            skip(m, u8(m));       // compression methods
            String sni = "none", versions = null;
            if (m.hasRemaining()) {
                ByteBuffer extensions = take(m, u16(m));
                while (extensions.hasRemaining()) {
                    int type = u16(extensions);
                    ByteBuffer e = take(extensions, u16(extensions));
                    if (type == 0) {   // server_name: a list of (type, name); type 0 is a host name
                        ByteBuffer list = take(e, u16(e));
                        if (u8(list) == 0) sni = new String(bytes(take(list, u16(list))), StandardCharsets.US_ASCII);
                    } else if (type == 43) {   // supported_versions
                        List<String> offered = new ArrayList<>();
                        for (ByteBuffer list = take(e, u8(e)); list.hasRemaining(); ) {
                            int version = u16(list);
                            if ((version & 0x0f0f) != 0x0a0a) offered.add(version(version));   // GREASE values skipped
                        }
                        versions = String.join(", ", offered);
                    }
                }
            }
            return ": SNI " + sni + (versions != null ? ", offers " + versions : "") + ", " + suites + " cipher suites";
        }

        private String serverHello(ByteBuffer m) {
            int version = u16(m);
            byte[] random = bytes(take(m, 32));
            skip(m, u8(m));
            int suite = u16(m);
            skip(m, 1);
            if (m.hasRemaining()) {
                ByteBuffer extensions = take(m, u16(m));
                while (extensions.hasRemaining()) {
                    int type = u16(extensions);
                    ByteBuffer e = take(extensions, u16(extensions));
                    if (type == 43) version = u16(e);   // supported_versions: the version really chosen
                }
            }
            if (version == 0x0304) connection.tls13 = true;
            boolean retry = HexFormat.of().formatHex(random).startsWith("cf21ad74e59a6111be1d8c021e65b891");
            return (retry ? " (a HelloRetryRequest: the client must send another ClientHello)" : "")
                    + ": chose " + version(version) + ", " + suite(suite)
                    + (version == 0x0304 && !retry ? "; everything after this is encrypted" : "");
        }

        private String certificate(ByteBuffer m) {
            ByteBuffer list = take(m, u24(m));
            ByteBuffer first = take(list, u24(list));
            try {
                var certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(bytes(first)));
                return ": in clear, subject " + certificate.getSubjectX500Principal().getName() + ", issuer "
                        + certificate.getIssuerX500Principal().getName();
            } catch (CertificateException e) {
                return " (not an X.509 certificate)";
            }
        }
    }

    static String messageName(int type) {
        return switch (type) {
            case 0 -> "HelloRequest";
            case 1 -> "ClientHello";
            case 2 -> "ServerHello";
            case 4 -> "NewSessionTicket";
            case 8 -> "EncryptedExtensions";
            case 11 -> "Certificate";
            case 12 -> "ServerKeyExchange";
            case 13 -> "CertificateRequest";
            case 14 -> "ServerHelloDone";
            case 15 -> "CertificateVerify";
            case 16 -> "ClientKeyExchange";
            case 20 -> "Finished";
            default -> "handshake message " + type;
        };
    }

    static String suite(int suite) {   // the usual ones by name; the IANA registry lists them all
        return switch (suite) {
            case 0x1301 -> "TLS_AES_128_GCM_SHA256";
            case 0x1302 -> "TLS_AES_256_GCM_SHA384";
            case 0x1303 -> "TLS_CHACHA20_POLY1305_SHA256";
            case 0xC02B -> "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
            case 0xC02C -> "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
            case 0xC02F -> "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
            case 0xC030 -> "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
            default -> String.format("cipher suite 0x%04X", suite);
        };
    }

    static String version(int version) {
        return switch (version) {
            case 0x0300 -> "SSL 3.0";
            case 0x0301 -> "TLS 1.0";
            case 0x0302 -> "TLS 1.1";
            case 0x0303 -> "TLS 1.2";
            case 0x0304 -> "TLS 1.3";
            default -> String.format("version 0x%04X", version);
        };
    }

    static String alert(int description) {
        return switch (description) {
            case 0 -> "close_notify";
            case 10 -> "unexpected_message";
            case 40 -> "handshake_failure";
            case 42 -> "bad_certificate";
            case 46 -> "certificate_unknown";
            case 48 -> "unknown_ca";
            case 70 -> "protocol_version";
            case 80 -> "internal_error";
            default -> "alert " + description;
        };
    }

    static int u8(ByteBuffer b) { return b.get() & 0xff; }
    static int u16(ByteBuffer b) { return b.getShort() & 0xffff; }
    static int u24(ByteBuffer b) { return u8(b) << 16 | u16(b); }
    static int u16(byte[] b, int at) { return (b[at] & 0xff) << 8 | b[at + 1] & 0xff; }
    static void skip(ByteBuffer b, int n) { b.position(b.position() + n); }

    static ByteBuffer take(ByteBuffer b, int n) {   // the next n bytes as a buffer of their own
        ByteBuffer part = b.slice().limit(n);
        skip(b, n);
        return part;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        return copy;
    }

    /** Plain bytes: as text when they are printable UTF-8, otherwise a hex dump with offsets, as xxd prints it. */
    private List<String> dump(byte[] data, int offset, int length) {
        int shown = Math.min(length, dumpLimit);
        List<String> lines = new ArrayList<>();
        String text = printable(data, offset, shown);
        if (text != null) {
            for (String line : text.split("\r?\n", -1)) lines.add("    " + line);
            if (lines.size() > 1 && lines.get(lines.size() - 1).isBlank()) lines.remove(lines.size() - 1);
        } else {
            for (int row = 0; row < shown; row += 16) {
                StringBuilder hex = new StringBuilder(), chars = new StringBuilder();
                for (int i = row; i < row + 16; i++) {
                    byte b = i < shown ? data[offset + i] : 0;
                    hex.append(i < shown ? String.format("%02x", b) : "  ").append(i % 2 == 1 ? " " : "");
                    if (i < shown) chars.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
                }
                lines.add(String.format("    %08x: %s %s", row, hex, chars));
            }
        }
        if (shown < length) lines.add("    ... " + (length - shown) + " more bytes not shown (--dump)");
        return lines;
    }

    /** The bytes as text, or null if they are not printable UTF-8 (a chunk may also cut a character in two). */
    static String printable(byte[] data, int offset, int length) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(data, offset, length)).toString();
            return text.chars().allMatch(c -> c >= 0x20 && c != 0x7f || c == '\n' || c == '\r' || c == '\t')
                    ? text : null;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    // ---- Small helpers: output, closing, threads, usage errors. ----

    private void print(int id, String line) { print(id, line, List.of()); }

    /** One block per chunk, never interleaved with another connection's. */
    private void print(int id, String line, List<String> details) {
        synchronized (out) {
            out.println("#" + id + " " + line);
            details.forEach(out::println);
            out.flush();
        }
    }

    private static void close(Closeable closeable) {
        try {
            if (closeable != null) closeable.close();
        } catch (IOException alreadyBroken) {
        }
    }

    /** Daemon threads: a connection stuck in a read can never keep the JVM alive after Ctrl-C. */
    private static Thread daemon(String name, Runnable task) {
        Thread thread = new Thread(task, "wiretap " + name);
        thread.setDaemon(true);
        return thread;
    }

    private ParameterException usage(String message) { return new ParameterException(spec.commandLine(), message); }

    /** As server.java: a usage error in two lines, any other surprise in one. */
    static CommandLine commandLine(Wiretap command) {
        return new CommandLine(command).setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("error: " + e.getMessage()
                    + "\nTry './jbang examples/Wiretap.java --help'.");
            return ExitCode.USAGE;
        }).setExecutionExceptionHandler((e, commandLine, parsed) -> {
            commandLine.getErr().println("Wiretap: unexpected error: " + e);
            return ExitCode.SOFTWARE;
        });
    }
}
