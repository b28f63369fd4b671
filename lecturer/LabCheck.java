///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.*;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.net.ssl.*;

/** The lecturer's lab check: runs a student's TLS echo server and/or client against the lab's requirements. */
public class LabCheck {
    static final String USAGE = "Usage: java lecturer/LabCheck.java [--server CMD] [--trust FILE] [--client CMD]"
            + " [--timeout SECONDS]   (--help for more)";
    static final String HELP = """
            Usage: java lecturer/LabCheck.java [--server CMD] [--trust FILE] [--client CMD] [--timeout SECONDS]

            Runs a student's TLS echo server and/or client from this folder, over loopback, against the lab's
            requirements; prints one PASS or FAIL line per requirement with what it saw, then the score.

              --server CMD       starts the server; {port} becomes a free port, e.g.
                                   --server 'java examples/TlsEchoServer.java {port}'
                                   --server './jbang server.java --port {port}'
              --trust FILE       the certificate a client of that server trusts (default: certs/server.crt)
              --client CMD       runs the client against servers the check starts itself; {host} becomes
                                 localhost, {port} their port and {trust} the certificate file to trust, e.g.
                                   --client 'java examples/TlsEchoClient.java {host} {port} {trust}'
                                   --client './jbang client.java {host} {port} --trust {trust}'
                                 It gets one line on stdin, then the end of input.
              --timeout SECONDS  how long a server may take to listen, or a client to finish (default: 30);
                                 any other answer, over loopback from a program that runs, gets 5 s

            CMD is split into words at spaces; '...' or "..." keeps spaces within a word. No shell runs it:
            no pipes, redirections, variables or ~.
            Exit status: 0 all checks passed, 1 some failed, 2 usage error, 3 a program did not start (no such
            command, or a server that never listened), 4 the check itself could not run (keytool, temp files).""";
    /** How long an answer over loopback may take from a program that is running: far more than a healthy one needs. */
    static final int WAIT_MS = 5_000;
    static final int CLIENTS_AT_ONCE = 8;
    static final String[] MODERN = {"TLSv1.3", "TLSv1.2"};
    static final Pattern STACK_TRACE = Pattern.compile(
            "(?m)^\\s+at \\S+\\(.*\\)$|^\\s+\\.\\.\\. \\d+ more$|Exception in thread|^Caused by: ");

    static int timeoutSeconds = 30;
    /** What --trust named, and the JDK's trust manager for its certificates: all that the check's clients trust. */
    static String trustName = "certs/server.crt";
    static X509ExtendedTrustManager pkix;
    static int passed, total;
    static boolean notStarted;
    /** What to tidy up however the check ends, Ctrl-C included: the processes it started and its temporary folder. */
    static final Set<Process> started = ConcurrentHashMap.newKeySet();
    static volatile Path tempDir;

    /** A problem of the check itself (not of the programs it checks): its message, then exit status 4. */
    static final class CheckError extends Exception {
        CheckError(String message) { super(message); }
    }

    public static void main(String... args) throws Exception {
        // Before JSSE loads: let this JVM speak TLS 1.0 and 1.1, which two of its checks need (a probe of the student's
        // server and an old server for the student's client). Every other socket here names TLS 1.3 and 1.2 itself.
        Security.setProperty("jdk.tls.disabledAlgorithms", Security.getProperty("jdk.tls.disabledAlgorithms")
                .replaceAll("\\bTLSv1(\\.1)?\\s*,\\s*", ""));
        String server = null, client = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.println(HELP);
                    return;
                }
                case "--server" -> server = value(args, ++i);
                case "--client" -> client = value(args, ++i);
                case "--trust" -> trustName = value(args, ++i);
                case "--timeout" -> timeoutSeconds = seconds(value(args, ++i));
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (server == null && client == null) usage("give --server CMD, --client CMD, or both");
        if (server != null && !server.contains("{port}")) usage("--server needs {port} in its command");
        if (client != null && !(client.contains("{port}") && client.contains("{trust}"))) {
            usage("--client needs {port} and {trust} in its command");
        }
        if (server != null) pkix = trusting(trustName);
        Runtime.getRuntime().addShutdownHook(new Thread(LabCheck::tidyUp));
        try {
            if (server != null) checkServer(words(server));
            if (client != null) checkClient(words(client));
        } catch (CheckError e) {
            System.err.println("LabCheck: " + e.getMessage());
            System.exit(4);
        }
        System.out.println("score: " + passed + "/" + total);
        System.exit(notStarted ? 3 : passed == total ? 0 : 1);
    }

    static String value(String[] args, int i) {
        if (i >= args.length) usage(args[i - 1] + " needs a value");
        return args[i];
    }

    static int seconds(String text) {
        if (!text.matches("[1-9][0-9]{0,4}")) usage("--timeout needs a whole number of seconds, not " + text);
        return Integer.parseInt(text);
    }

    static void usage(String problem) {   // two lines and exit status 2, as a usage error should be
        System.err.println("LabCheck: " + problem);
        System.err.println(USAGE);
        System.exit(2);
    }

    /** The JDK's own trust manager (PKIX), for exactly the certificates in the file: not its CAs, nor just anything. */
    static X509ExtendedTrustManager trusting(String file) {
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("" + store.size(), c);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            if (store.size() > 0) return (X509ExtendedTrustManager) factory.getTrustManagers()[0];
        } catch (IOException | GeneralSecurityException e) {
            // Told below, whatever the cause: the fix is the same.
        }
        usage("no certificate read from " + file + ": run ./certgen.sh first, or give --trust FILE");
        return null;
    }

    /** CMD as words, split at spaces; '...' or "..." keeps spaces in a word. Nothing else is special. */
    static List<String> words(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;   // null between words
        char quote = 0;
        for (char c : command.toCharArray()) {
            if (quote != 0 && c != quote) {
                word.append(c);
            } else if (quote != 0) {
                quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
                if (word == null) word = new StringBuilder();
            } else if (Character.isWhitespace(c)) {
                if (word != null) words.add(word.toString());
                word = null;
            } else {
                if (word == null) word = new StringBuilder();
                word.append(c);
            }
        }
        if (quote != 0) usage("a quote (" + quote + ") is not closed in: " + command);
        if (word != null) words.add(word.toString());
        return words;
    }

    static List<String> fill(List<String> words, Map<String, String> values) {
        return words.stream().map(word -> {
            for (var value : values.entrySet()) word = word.replace(value.getKey(), value.getValue());
            return word;
        }).toList();
    }

    /** Prints a rubric line as soon as it is known: a lecturer watching sees where a slow check is. */
    static void rubric(String check, boolean pass, String seen) {
        total++;
        if (pass) passed++;
        System.out.println((pass ? "PASS  " : "FAIL  ") + check + " (" + seen + ")");
        System.out.flush();
    }

    // ---- The student's server ----------------------------------------------------------------------------------

    static final String[] SERVER_CHECKS = {
        "server: TLS 1.3 handshake, certificate and host name verified",
        "server: TLS 1.2 handshake, certificate and host name verified",
        "server: refuses TLS 1.0 and 1.1",
        "server: its certificate is trusted and names DNS:localhost and IP:127.0.0.1",
        "server: echoes byte-exact (20000 bytes, every byte value)",
        "server: still serves after a plaintext client (GET / HTTP/1.0)",
        "server: serves a client while a silent one is connected",
        "server: serves " + CLIENTS_AT_ONCE + " clients at once"};

    /** The outcome of one check: passed or not, and what was seen. */
    record Seen(boolean pass, String what) {}

    /** The server under test, started again when a check made it exit, so that each line scores one requirement. */
    static final class ServerUnderTest {
        final List<String> words;
        Process process;
        int port;
        volatile String lastLine = "";
        volatile boolean stackTrace;

        ServerUnderTest(List<String> words) { this.words = words; }

        /** Starts it on a free port and waits until that port answers; null when it did, else what went wrong. */
        String start() {
            try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = free.getLocalPort();   // closed again at once: the server under test takes it
            } catch (IOException e) {
                return "no free port on loopback (" + e.getClass().getSimpleName() + ")";
            }
            try {
                process = startProcess(fill(words, Map.of("{port}", "" + port)), true);
            } catch (IOException e) {
                return "cannot run " + words.get(0) + ": no such command (or not executable)";
            }
            Thread reader = new Thread(() -> {   // drained, or a chatty server would block on a full pipe
                try (var lines = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
                    for (String line; (line = lines.readLine()) != null; ) {
                        if (STACK_TRACE.matcher(line).find()) stackTrace = true;
                        else if (!line.isBlank()) lastLine = line.strip();
                    }
                } catch (IOException ended) {
                    // The process is gone; its last line is kept.
                }
            });
            reader.setDaemon(true);
            reader.start();
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) return "it " + exited();
                try (Socket probe = new Socket()) {
                    probe.connect(loopback(port), WAIT_MS);
                    // A full handshake, not a bare connect-and-close: a server that dies on that would be judged on
                    // something no check asked for.
                    try (SSLSocket ready = new Probe().layer(probe, MODERN)) {
                        return null;
                    } catch (IOException untrusted) {
                        return null;   // listening is all we wait for; the checks tell what is wrong
                    }
                } catch (IOException notYet) {
                    sleep(100);
                }
            }
            return "it did not listen on port " + port + " within " + timeoutSeconds + " s";
        }

        String exited() {
            // Its own words, unless they are a stack trace: those are long, and worded differently by each JDK.
            return "exited with status " + process.exitValue() + (stackTrace ? " after a stack trace"
                    : lastLine.isEmpty() ? "" : ", its last line: \"" + lastLine + "\"");
        }
    }

    static void checkServer(List<String> words) {
        ServerUnderTest server = new ServerUnderTest(words);
        List<Supplier<Seen>> checks = List.of(
                () -> handshake(server.port, "TLSv1.3"),
                () -> handshake(server.port, "TLSv1.2"),
                () -> refusesOldVersions(server.port),
                () -> certificate(server.port),
                () -> echo(server.port, payload(20_000)),
                () -> afterPlaintext(server),
                () -> besideSilent(server.port),
                () -> atOnce(server.port));
        try {
            runServerChecks(server, checks);
        } finally {
            stop(server.process);
        }
    }

    static void runServerChecks(ServerUnderTest server, List<Supplier<Seen>> checks) {
        for (int i = 0; i < checks.size(); i++) {
            if (server.process == null || !server.process.isAlive()) {
                String problem = server.start();
                if (problem != null) {
                    System.err.println("LabCheck: the server did not start: " + problem + ".");
                    System.err.println("Run its command yourself, in this folder, to see why: "
                            + String.join(" ", server.words));
                    notStarted = true;
                    for (int j = i; j < checks.size(); j++) rubric(SERVER_CHECKS[j], false, "not run");
                    break;
                }
            }
            Seen seen = checks.get(i).get();
            sleep(100);   // a server that a check killed needs a moment to be gone
            String exit = server.process.isAlive() ? "" : "; then the server " + server.exited();
            rubric(SERVER_CHECKS[i], seen.pass(), seen.what() + exit);
        }
    }

    static Seen handshake(int port, String version) {
        try (SSLSocket socket = new Probe().dial(port, version)) {
            return new Seen(true, socket.getSession().getProtocol() + ", " + socket.getSession().getCipherSuite());
        } catch (IOException e) {
            return new Seen(false, problem(e));
        }
    }

    static Seen refusesOldVersions(int port) {
        Probe probe = new Probe();
        try (SSLSocket socket = probe.dial(port, "TLSv1.1", "TLSv1")) {
            return new Seen(false, "it agreed to " + socket.getSession().getProtocol());
        } catch (IOException e) {
            // The version is chosen before the certificate is checked: a refusal of the certificate can hide a "yes".
            return probe.version == null ? new Seen(true, "refused")
                    : new Seen(false, "it agreed to " + probe.version);
        }
    }

    static Seen certificate(int port) {
        Probe probe = new Probe();
        try (SSLSocket socket = probe.dial(port, MODERN)) {
            X509Certificate leaf = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            String names = names(leaf);
            leaf.checkValidity();   // the JDK skips the dates of a trusted self-signed certificate
            boolean both = List.of(names.split(", ")).containsAll(List.of("DNS:localhost", "IP:127.0.0.1"));
            return new Seen(both, leaf.getSubjectX500Principal().getName() + "; " + names);
        } catch (CertificateException e) {
            return new Seen(false, "its certificate is expired or not valid yet");
        } catch (IOException e) {
            String sent = probe.leaf == null ? ""
                    : "it sent " + probe.leaf.getSubjectX500Principal().getName() + " for " + names(probe.leaf) + ": ";
            return new Seen(false, sent + problem(e));
        }
    }

    static Seen echo(int port, byte[] payload) {
        try (SSLSocket socket = new Probe().dial(port, MODERN)) {
            String problem = roundTrip(socket, payload);
            return new Seen(problem == null, problem == null ? "the same " + payload.length + " bytes came back"
                    : problem);
        } catch (IOException e) {
            return new Seen(false, problem(e));
        }
    }

    /** Sends the payload and reads as many bytes back; null when they are the same, else what differed. */
    static String roundTrip(SSLSocket socket, byte[] payload) throws IOException {
        socket.getOutputStream().write(payload);
        socket.getOutputStream().flush();
        byte[] back = new byte[payload.length];
        int n = 0;
        try {
            for (int read; n < back.length && (read = socket.getInputStream().read(back, n, back.length - n)) != -1; ) {
                n += read;
            }
        } catch (SocketTimeoutException e) {
            return "only " + n + " of " + payload.length + " bytes came back within " + WAIT_MS / 1000 + " s";
        }
        if (n < back.length) return "the connection closed after " + n + " of " + payload.length + " bytes";
        int first = Arrays.mismatch(payload, back);
        return first < 0 ? null : "byte " + first + " came back changed";
    }

    static Seen afterPlaintext(ServerUnderTest server) {
        try (Socket plain = new Socket()) {
            plain.connect(loopback(server.port), WAIT_MS);
            plain.setSoTimeout(WAIT_MS);
            plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            plain.getInputStream().readAllBytes();   // its alert, until it hangs up
        } catch (IOException e) {
            // Hanging up at once, or a reset, is a fine answer to plain text.
        }
        sleep(300);   // time for a server that the plain text broke to be gone: what is seen next does not depend on it
        if (!server.process.isAlive()) return new Seen(false, "its connection was the server's last");
        Seen after = echo(server.port, payload(100));
        return new Seen(after.pass(), after.pass() ? "a verifying client echoed after it" : after.what());
    }

    static Seen besideSilent(int port) {
        try (Socket silent = new Socket()) {
            silent.connect(loopback(port), WAIT_MS);
            sleep(200);   // so that the server has accepted the silent connection first
            Seen beside = echo(port, payload(100));
            return new Seen(beside.pass(), beside.pass() ? "a verifying client echoed meanwhile" : beside.what());
        } catch (IOException e) {
            return new Seen(false, problem(e));
        }
    }

    /** Each client holds its connection until all have their echo: a server that serves one at a time cannot pass. */
    static Seen atOnce(int port) {
        CountDownLatch echoed = new CountDownLatch(CLIENTS_AT_ONCE);
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS_AT_ONCE);
        List<Future<String>> problems = new ArrayList<>();
        for (int i = 0; i < CLIENTS_AT_ONCE; i++) {
            byte[] payload = payload(1000 + i);
            problems.add(clients.submit(() -> {
                try (SSLSocket socket = new Probe().dial(port, MODERN)) {
                    String problem = roundTrip(socket, payload);
                    if (problem != null) return problem;
                    echoed.countDown();
                    echoed.await(WAIT_MS, TimeUnit.MILLISECONDS);
                    return null;
                } catch (IOException e) {
                    return problem(e);
                }
            }));
        }
        clients.shutdown();
        String firstProblem = null;
        for (Future<String> problem : problems) {
            try {
                if (firstProblem == null) firstProblem = problem.get();
            } catch (InterruptedException | ExecutionException e) {
                firstProblem = "a client thread failed (" + e.getClass().getSimpleName() + ")";
            }
        }
        long done = CLIENTS_AT_ONCE - echoed.getCount();
        return new Seen(firstProblem == null, firstProblem == null ? "all " + CLIENTS_AT_ONCE + " echoed"
                : done + " of " + CLIENTS_AT_ONCE + " echoed; first problem: " + firstProblem);
    }

    /** Every byte value, then random ones: a server that treats the data as text changes some of them. */
    static byte[] payload(int length) {
        byte[] bytes = new byte[length];
        new SecureRandom().nextBytes(bytes);
        for (int i = 0; i < Math.min(256, length); i++) bytes[i] = (byte) i;
        return bytes;
    }

    /**
     * A client as the lab's should be: it trusts exactly the --trust certificates and checks the host name. Every
     * decision is the JDK's trust manager's (pkix); before asking it, the probe notes what the server sent and which
     * version it chose, so that a refused handshake can still say what was seen.
     */
    static final class Probe extends X509ExtendedTrustManager {
        volatile X509Certificate leaf;
        volatile String version;

        SSLSocket dial(int port, String... versions) throws IOException {
            Socket tcp = new Socket();
            try {
                tcp.connect(loopback(port), WAIT_MS);
                return layer(tcp, versions);
            } catch (IOException e) {
                tcp.close();
                throw e;
            }
        }

        /** TLS over a connected socket, as a client of "localhost" (the name the certificate must hold). */
        SSLSocket layer(Socket tcp, String... versions) throws IOException {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, new TrustManager[] {this}, null);
                tcp.setSoTimeout(WAIT_MS);
                SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(tcp, "localhost", tcp.getPort(),
                        true);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setProtocols(versions);
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                return socket;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK has no TLS", e);
            }
        }

        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            leaf = chain[0];
            version = ((SSLSocket) socket).getHandshakeSession().getProtocol();
            pkix.checkServerTrusted(chain, authType, socket);
        }

        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            pkix.checkServerTrusted(chain, authType, engine);
        }

        @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            pkix.checkClientTrusted(chain, authType, socket);
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            pkix.checkClientTrusted(chain, authType, engine);
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkClientTrusted(chain, authType);
        }

        @Override public X509Certificate[] getAcceptedIssuers() { return pkix.getAcceptedIssuers(); }
    }

    /** What a failed connection means, told by the exceptions' types: their messages differ between JDK versions. */
    static String problem(IOException e) {
        if (e instanceof ConnectException) return "connection refused";
        if (e instanceof SocketTimeoutException) return "no answer within " + WAIT_MS / 1000 + " s";
        if (causedBy(e, CertificateExpiredException.class)) return "its certificate has expired";
        if (causedBy(e, CertPathBuilderException.class) || causedBy(e, CertPathValidatorException.class)) {
            return "its certificate is not trusted by " + trustName;
        }
        if (causedBy(e, CertificateException.class)) return "its certificate is not valid for localhost";
        if (e instanceof SSLHandshakeException) return "handshake refused (no TLS version in common, or it hung up)";
        if (e instanceof SSLException) return "it does not speak TLS";
        if (e instanceof EOFException || e instanceof SocketException) return "it closed the connection";
        return e.getClass().getSimpleName();
    }

    static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) if (type.isInstance(cause)) return true;
        return false;
    }

    /** The subject alternative names as the lab's programs print them: "DNS:localhost, IP:127.0.0.1". */
    static String names(X509Certificate certificate) {
        try {
            var names = certificate.getSubjectAlternativeNames();
            if (names == null) return "no alternative names";
            return String.join(", ", names.stream().map(name -> (name.get(0).equals(2) ? "DNS:"
                    : name.get(0).equals(7) ? "IP:" : "") + name.get(1)).toList());
        } catch (CertificateParsingException e) {
            return "unreadable alternative names";
        }
    }

    // ---- The student's client ----------------------------------------------------------------------------------

    static final String[] CLIENT_CHECKS = {
        "client: echoes a line through a good server",
        "client: prints the certificate report",
        "client: refuses an untrusted certificate",
        "client: refuses a certificate for another host name",
        "client: refuses an expired certificate",
        "client: refuses a TLS 1.0-only server"};

    /** Where the good certificate's dates fall: years that can be found in the report whatever the date format. */
    static final LocalDate GOOD_FROM = LocalDate.of(2020, 6, 15), GOOD_UNTIL = LocalDate.of(2099, 6, 15);

    static void checkClient(List<String> words) throws CheckError {
        try {
            Map<String, Identity> servers = identities();
            int before = total;
            try {
                clientChecks(words, servers);
            } catch (NotStarted e) {
                notStarted = true;
                for (int i = total - before; i < CLIENT_CHECKS.length; i++) rubric(CLIENT_CHECKS[i], false, "not run");
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new CheckError("cannot run its own TLS servers on loopback (" + e.getClass().getSimpleName() + ")");
        } finally {
            tidyUp();
        }
    }

    /** What one of the check's servers presents: its key and certificate, and the certificate for clients. */
    record Identity(SSLContext context, X509Certificate certificate) {}

    /** The four servers' certificates, made by keytool in a private folder; {trust} names their .crt files there. */
    static Map<String, Identity> identities() throws CheckError {
        try {
            tempDir = Files.createTempDirectory("labcheck-");   // owner-only: it holds private keys and a password
            Path password = tempDir.resolve("keys.pass");
            Files.writeString(password, HexFormat.of().formatHex(new SecureRandom().generateSeed(16)));
            String days = "" + ChronoUnit.DAYS.between(GOOD_FROM, GOOD_UNTIL);
            String lab = "san=dns:localhost,ip:127.0.0.1";
            Map<String, List<String>> certificates = Map.of(
                    "good", List.of("-dname", "CN=Lab Check Server", "-ext", lab + ",dns:report.labcheck.invalid",
                            "-validity", days, "-startdate", GOOD_FROM.toString().replace('-', '/') + " 12:00:00"),
                    "untrusted", List.of("-dname", "CN=localhost", "-ext", lab),
                    "wrongname", List.of("-dname", "CN=other.labcheck.invalid",
                            "-ext", "san=dns:other.labcheck.invalid"),
                    "expired", List.of("-dname", "CN=localhost", "-ext", lab, "-startdate", "-30d", "-validity", "1"));
            ExecutorService keytools = Executors.newFixedThreadPool(2);   // a JVM start each: two at a time
            Map<String, Future<Identity>> made = new HashMap<>();
            certificates.forEach((name, options) -> made.put(name, keytools.submit(() -> keytool(name, password,
                    options))));
            keytools.shutdown();
            Map<String, Identity> identities = new HashMap<>();
            for (var identity : made.entrySet()) identities.put(identity.getKey(), identity.getValue().get());
            return identities;
        } catch (ExecutionException e) {
            throw new CheckError(e.getCause() instanceof CheckError c ? c.getMessage() : "cannot make certificates ("
                    + e.getCause().getClass().getSimpleName() + ")");
        } catch (IOException | InterruptedException e) {
            throw new CheckError("cannot make its certificates in a temporary folder (" + e.getClass().getSimpleName()
                    + ")");
        }
    }

    /** A self-signed EC key and certificate made by keytool; the password goes by file, never on the command line. */
    static Identity keytool(String name, Path password, List<String> options) throws Exception {
        Path store = tempDir.resolve(name + ".p12");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool")
                .toString(), "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-genkeypair", "-alias", "server",
                "-keyalg", "EC", "-groupname", "secp256r1", "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass:file", password.toString()));
        command.addAll(options);
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = readAll(keytool.getInputStream());
        if (keytool.waitFor() != 0) throw new CheckError("keytool failed: " + shorten(output));
        char[] secret = Files.readString(password).toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, secret);
        }
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keys, secret);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(factory.getKeyManagers(), null, null);
        X509Certificate certificate = (X509Certificate) keys.getCertificate("server");
        Files.writeString(tempDir.resolve(name + ".crt"), "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64,
                new byte[] {'\n'}).encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        return new Identity(context, certificate);
    }

    static void clientChecks(List<String> words, Map<String, Identity> servers) throws IOException,
            GeneralSecurityException {
        String line = "lab check " + HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
        try (LabServer server = new LabServer(servers.get("good").context(), MODERN)) {
            ClientRun run = runClient(words, server, "good", line);
            boolean echoed = run.exit == 0 && run.out.contains(line) && server.received().contains(line);
            rubric(CLIENT_CHECKS[0], echoed, echoed ? "exit 0, echo seen"
                    : run.hung ? run.hungFor() : "exit " + run.exit + (server.version == null ? ", no handshake" : "")
                    + (server.received().contains(line) ? "" : ", the line never reached the server")
                    + run.message().stream().findFirst().map(first -> ": " + shorten(first)).orElse(""));
            List<String> missing = missing(run.out + run.err, servers.get("good").certificate(), server);
            rubric(CLIENT_CHECKS[1], missing.isEmpty(), missing.isEmpty()
                    ? "subject, names, dates, serial, key, signature, fingerprint, TLS version, cipher suite"
                    : "missing: " + String.join(", ", missing));
        }
        refusal(words, CLIENT_CHECKS[2], servers.get("untrusted").context(), "good", MODERN, line);
        refusal(words, CLIENT_CHECKS[3], servers.get("wrongname").context(), "wrongname", MODERN, line);
        refusal(words, CLIENT_CHECKS[4], servers.get("expired").context(), "expired", MODERN, line);
        refusal(words, CLIENT_CHECKS[5], servers.get("good").context(), "good", new String[] {"TLSv1"}, line);
    }

    /** The credit task's fields (workbook Step 5) that the client's output lacks, looked for in any format. */
    static List<String> missing(String output, X509Certificate good, LabServer server) throws GeneralSecurityException {
        String hex = output.replaceAll("[:\\s]", "").toUpperCase();   // colon-hex and plain hex alike
        String fingerprint = HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(good.getEncoded()));
        Map<String, Boolean> fields = new LinkedHashMap<>();
        fields.put("subject", output.contains("Lab Check Server"));
        fields.put("alternative names", output.contains("report.labcheck.invalid"));
        fields.put("not before", year(output, GOOD_FROM.getYear()));
        fields.put("not after", year(output, GOOD_UNTIL.getYear()));
        fields.put("serial number", hex.contains(good.getSerialNumber().toString(16).toUpperCase())
                || output.contains(good.getSerialNumber().toString()));
        fields.put("public key", Pattern.compile("\\bEC\\b|ecPublicKey").matcher(output).find());
        fields.put("signature algorithm", output.contains(good.getSigAlgName()));
        fields.put("SHA-256 fingerprint", hex.contains(fingerprint));
        fields.put("TLS version", server.version != null && output.contains(server.version));
        fields.put("cipher suite", server.suite != null && output.contains(server.suite));
        return fields.entrySet().stream().filter(field -> !field.getValue()).map(Map.Entry::getKey).toList();
    }

    static boolean year(String output, int year) {
        return Pattern.compile("(?<![0-9A-Fa-f])" + year + "(?![0-9A-Fa-f])").matcher(output).find();
    }

    /**
     * A refusal passes when the client exits non-zero, sent the server no data, printed no stack trace, and said why
     * in one or two lines on stderr (the lecture's rule for errors a user can cause).
     */
    static void refusal(List<String> words, String check, SSLContext context, String trust, String[] versions,
            String line) throws IOException {
        try (LabServer server = new LabServer(context, versions)) {
            ClientRun run = runClient(words, server, trust, line);
            List<String> message = run.message();
            String seen;
            if (run.hung) seen = run.hungFor();
            else if (run.exit == 0) seen = "exit 0: it did not refuse";
            else if (!server.received().isEmpty()) seen = "exit " + run.exit + ", but it first sent data to the server";
            else if (STACK_TRACE.matcher(run.out + run.err).find()) seen = "exit " + run.exit + ", with a stack trace";
            else if (message.isEmpty()) seen = "exit " + run.exit + ", but no message on stderr";
            else if (message.size() > 2) seen = "exit " + run.exit + ", but " + message.size() + " lines on stderr";
            else seen = null;
            rubric(check, seen == null, seen == null ? "exit " + run.exit + ": " + shorten(message.get(0)) : seen);
        }
    }

    record ClientRun(boolean hung, int exit, String out, String err) {
        String hungFor() { return "hung: still running after " + timeoutSeconds + " s"; }

        /** Its error message: stderr, less the launcher's and the JVM's own notes. */
        List<String> message() {
            return err.lines().filter(l -> !l.isBlank() && !l.startsWith("[jbang]") && !l.startsWith("Picked up "))
                    .toList();
        }
    }

    /** Runs the client once against a server, feeding it one line; NotStarted when its command cannot run. */
    static ClientRun runClient(List<String> words, LabServer server, String trust, String line) {
        List<String> command = fill(words, Map.of("{host}", "localhost", "{port}", "" + server.port(), "{trust}",
                tempDir.resolve(trust + ".crt").toString()));
        Process client;
        try {
            client = startProcess(command, false);
        } catch (IOException e) {
            System.err.println("LabCheck: the client did not start: cannot run " + command.get(0) + ": no such command"
                    + " (or not executable).");
            System.err.println("Check the --client command: it runs in this folder, without a shell.");
            throw new NotStarted();
        }
        var out = CompletableFuture.supplyAsync(() -> readAll(client.getInputStream()));
        var err = CompletableFuture.supplyAsync(() -> readAll(client.getErrorStream()));
        try (var stdin = client.getOutputStream()) {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException exitedEarly) {
            // A client that exits before reading its input: its exit status and output tell the rest.
        }
        try {
            boolean hung = !client.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            stop(client);
            return new ClientRun(hung, hung ? -1 : client.exitValue(), out.get(), err.get());
        } catch (InterruptedException | ExecutionException e) {
            stop(client);
            return new ClientRun(true, -1, "", "");
        }
    }

    /** Thrown when the client under test cannot be started at all: its checks left are lost. */
    static final class NotStarted extends RuntimeException {}

    /** A TLS echo server in this JVM, on a free loopback port, that notes what the client did. */
    static final class LabServer implements AutoCloseable {
        final SSLServerSocket listener;
        volatile String version, suite;   // of the last handshake that completed
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        LabServer(SSLContext context, String... versions) throws IOException {
            listener = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getLoopbackAddress());
            listener.setEnabledProtocols(versions);
            daemon(() -> {
                while (true) {
                    try {
                        SSLSocket socket = (SSLSocket) listener.accept();
                        daemon(() -> echo(socket));
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
        }

        int port() { return listener.getLocalPort(); }

        String received() {
            synchronized (received) {
                return received.toString(StandardCharsets.UTF_8);
            }
        }

        /** No time limit here: a client that hangs is stopped at --timeout, and that ends its connection too. */
        void echo(SSLSocket socket) {
            try (socket) {
                socket.startHandshake();
                version = socket.getSession().getProtocol();
                suite = socket.getSession().getCipherSuite();
                byte[] buffer = new byte[4096];
                for (int n; (n = socket.getInputStream().read(buffer)) != -1; ) {
                    synchronized (received) {
                        received.write(buffer, 0, n);
                    }
                    socket.getOutputStream().write(buffer, 0, n);
                }
            } catch (IOException refused) {
                // Most runs end here on purpose: the client refused the handshake.
            }
        }

        @Override public void close() throws IOException { listener.close(); }
    }

    // ---- Processes and tidying up -------------------------------------------------------------------------------

    static Process startProcess(List<String> command, boolean mergeOutput) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(mergeOutput);
        builder.environment().put("NO_COLOR", "1");   // plain text to read, whatever the programs do with colour
        Process process = builder.start();
        started.add(process);
        return process;
    }

    /** Ends a program and everything it started (./jbang runs java, for one), politely first. */
    static void stop(Process process) {
        if (process == null) return;
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        for (ProcessHandle handle : tree) {
            try {
                handle.onExit().get(5, TimeUnit.SECONDS);
            } catch (InterruptedException | ExecutionException | TimeoutException e) {
                handle.destroyForcibly();
            }
        }
        started.remove(process);
    }

    static void tidyUp() {
        new ArrayList<>(started).forEach(LabCheck::stop);
        Path dir = tempDir;
        tempDir = null;
        if (dir == null) return;
        try (var files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(file);
        } catch (IOException e) {
            System.err.println("LabCheck: could not delete " + dir + "; delete it yourself (it holds test keys).");
        }
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    static void daemon(Runnable task) {
        Thread thread = new Thread(task);
        thread.setDaemon(true);
        thread.start();
    }

    static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static String shorten(String text) {
        String line = text.strip().lines().findFirst().orElse("");
        return "\"" + (line.length() > 70 ? line.substring(0, 67) + "..." : line) + "\"";
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
