///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
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
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.*;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.*;

/** The lecturer's lab check: runs a student's TLS echo server and/or client against the lab's requirements. */
public class LabCheck {
    static final String USAGE = "Usage: java lecturer/LabCheck.java [--server CMD] [--trust FILE] [--client CMD]"
            + " [--timeout SECONDS] [--build-timeout SECONDS] [--json FILE]   (--help for more)";
    static final String HELP = """
            Usage: java lecturer/LabCheck.java [--server CMD] [--trust FILE] [--client CMD] [--timeout SECONDS]
                                               [--build-timeout SECONDS] [--json FILE]

            Runs a student's TLS echo server and/or client from this folder, over loopback, against the lab's
            requirements; prints one PASS, FAIL or SKIP line per requirement with what it saw, then the score.
            A line passes only for what the check saw: on the wire, by its own clients and servers, and in the
            program's exit status and output.

              --server CMD       starts the server; {port} becomes a free port, e.g.
                                   --server 'java examples/TlsEchoServer.java {port}'
                                   --server './jbang server.java --port {port}'
              --trust FILE       the certificate a client of that server trusts (default: certs/server.crt)
              --client CMD       runs the client against servers the check starts itself; {host} becomes
                                 localhost, {port} their port and {trust} the certificate file to trust, e.g.
                                   --client 'java examples/TlsEchoClient.java {host} {port} {trust}'
                                   --client './jbang client.java {host} {port} --trust {trust}'
                                 It gets one line on stdin, then the end of input, and must print what the
                                 server sent back: one of the check's servers answers with a word of its own.
              --timeout SECONDS  how long a server may take to listen, or a client to finish (default: 30);
                                 any other answer, over loopback from a program that runs, gets 5 s
              --build-timeout SECONDS
                                 a ./jbang or jbang command is built first, unmarked: the client by one run,
                                 the server by its first start, within this bound (default: 300)
              --json FILE        also writes the rubric as JSON (name, result, detail of each line; the score)

            A client's refusal is seen on the wire: it connected, sent a ClientHello, and stopped the handshake
            after the server's certificate (an alert, or closing before any data), or offered no version of a
            TLS 1.0-only server. Only the program's own lines on stderr count as its message: JBang's
            ([jbang] ...) and the JVM's (Picked up ..., WARNING: ..., ... VM warning: ...) do not.
            SKIP: a line this JDK cannot check here (TLS 1.0 and 1.1 need a JDK that still offers them), with
            the reason; it is not counted in the score, which says how many lines were skipped.

            CMD is split into words at spaces; '...' or "..." keeps spaces within a word. No shell runs it:
            no pipes, redirections, variables or ~.
            Exit status: 0 all checks passed, 1 some failed, 2 usage error, 3 a program did not start (no such
            command, or a server that never listened), 4 the check itself could not run (keytool, temp files),
            5 none failed but some were skipped.""";
    /** How long an answer over loopback may take from a program that is running: far more than a healthy one needs. */
    static final int WAIT_MS = 5_000;
    /** How long a server that no longer answers may take to exit, before the check calls it hung and stops it. */
    static final int EXIT_WAIT_S = 5;
    static final int CLIENTS_AT_ONCE = 8;
    static final String[] MODERN = {"TLSv1.3", "TLSv1.2"};
    static final List<String> LEGACY = List.of("TLSv1.1", "TLSv1");
    static final Pattern STACK_TRACE = Pattern.compile(
            "(?m)^\\s+at \\S+\\(.*\\)$|^\\s+\\.\\.\\. \\d+ more$|Exception in thread|^Caused by: ");
    /** Lines on stderr that the launcher or the JVM wrote, not the program: they are not its message. */
    static final Pattern NOT_THE_PROGRAMS = Pattern.compile("^(\\[jbang]|Picked up |WARNING: |.* VM warning: )");

    static int timeoutSeconds = 30, buildSeconds = 300;
    /** What --trust named, and the JDK's trust manager for its certificates: all that the check's clients trust. */
    static String trustName = "certs/server.crt";
    static X509ExtendedTrustManager pkix;
    /** The TLS versions this JVM cannot use here, each with the reason: lines that need one are skipped. */
    static final Map<String, String> unavailable = new HashMap<>();
    static final List<Line> rubric = new ArrayList<>();
    static boolean notStarted;
    /** What to tidy up however the check ends, Ctrl-C included: the processes it started and its temporary folder. */
    static final Set<Process> started = ConcurrentHashMap.newKeySet();
    static volatile Path tempDir;

    /** A problem of the check itself (not of the programs it checks): its message, then exit status 4. */
    static final class CheckError extends Exception {
        CheckError(String message) { super(message); }
    }

    public static void main(String... args) throws Exception {
        allowLegacyTls();   // before JSSE loads; whether it worked: its throwaway context, then handshakes below
        String server = null, client = null, json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.println(HELP);
                    return;
                }
                case "--server" -> server = value(args, ++i);
                case "--client" -> client = value(args, ++i);
                case "--trust" -> trustName = value(args, ++i);
                case "--timeout" -> timeoutSeconds = seconds(args[i], value(args, ++i));
                case "--build-timeout" -> buildSeconds = seconds(args[i], value(args, ++i));
                case "--json" -> json = value(args, ++i);
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
            Map<String, Identity> identities = identities(client != null ? IDENTITIES.keySet() : Set.of("good"));
            probeVersions(identities.get("good"));
            if (server != null) checkServer(words(server));
            if (client != null) checkClient(words(client), identities);
        } catch (CheckError e) {
            System.err.println("LabCheck: " + e.getMessage());
            System.exit(4);
        } finally {
            tidyUp();
        }
        long passed = count("passed"), failed = count("failed"), skipped = count("skipped");
        System.out.println("score: " + passed + "/" + (passed + failed) + (skipped == 0 ? ""
                : " (" + skipped + " of " + rubric.size() + " lines skipped: not checked here, see SKIP)"));
        if (json != null) writeJson(Path.of(json), passed, passed + failed, skipped);
        System.exit(notStarted ? 3 : failed > 0 ? 1 : skipped > 0 ? 5 : 0);
    }

    static String value(String[] args, int i) {
        if (i >= args.length) usage(args[i - 1] + " needs a value");
        return args[i];
    }

    static int seconds(String option, String text) {
        if (!text.matches("[1-9][0-9]{0,4}")) usage(option + " needs a whole number of seconds, not " + text);
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
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(in);
            if (!certificates.isEmpty()) return trusting(certificates);
        } catch (IOException | GeneralSecurityException e) {
            // Told below, whatever the cause: the fix is the same.
        }
        usage("no certificate read from " + file + ": run ./certgen.sh first, or give --trust FILE");
        return null;
    }

    static X509ExtendedTrustManager trusting(Collection<? extends Certificate> certificates)
            throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (Certificate c : certificates) store.setCertificateEntry("" + store.size(), c);
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        return (X509ExtendedTrustManager) factory.getTrustManagers()[0];
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

    /** ./jbang and jbang build a script on its first run: that run is not timed as the program's. */
    static boolean builtByJBang(List<String> words) {
        return Path.of(words.get(0)).getFileName().toString().equals("jbang");
    }

    // ---- The rubric ----------------------------------------------------------------------------------------------

    /** One line of the rubric: its requirement, "passed", "failed" or "skipped", and what was seen (or why skipped). */
    record Line(String name, String result, String detail) {}

    /** Prints a rubric line as soon as it is known: a lecturer watching sees where a slow check is. */
    static void rubric(String check, boolean pass, String seen) {
        line(new Line(check, pass ? "passed" : "failed", seen));
    }

    static void skip(String check, String why) {
        line(new Line(check, "skipped", why));
    }

    static void line(Line line) {
        rubric.add(line);
        String mark = switch (line.result()) {
            case "passed" -> "PASS  ";
            case "failed" -> "FAIL  ";
            default -> "SKIP  ";
        };
        System.out.println(mark + line.name() + " (" + line.detail() + ")");
        System.out.flush();
    }

    static long count(String result) {
        return rubric.stream().filter(line -> line.result().equals(result)).count();
    }

    /** The rubric for a course's autograder: the lines, and the score over the lines that were run. */
    static void writeJson(Path file, long score, long max, long skipped) throws IOException {
        StringBuilder json = new StringBuilder("{\n  \"lines\": [");
        for (int i = 0; i < rubric.size(); i++) {
            Line line = rubric.get(i);
            json.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(quoted(line.name()))
                    .append(", \"result\": ").append(quoted(line.result())).append(", \"detail\": ")
                    .append(quoted(line.detail())).append('}');
        }
        json.append("\n  ],\n  \"score\": ").append(score).append(",\n  \"max\": ").append(max)
                .append(",\n  \"skipped\": ").append(skipped).append("\n}\n");
        try {
            Files.writeString(file, json);
        } catch (IOException e) {
            System.err.println("LabCheck: cannot write " + file + " (" + e.getClass().getSimpleName() + ")");
            System.exit(4);
        }
    }

    static String quoted(String text) {
        StringBuilder quoted = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') quoted.append('\\').append(c);
            else if (c < 0x20) quoted.append(String.format("\\u%04x", (int) c));
            else quoted.append(c);
        }
        return quoted.append('"').toString();
    }

    // ---- What this JVM can check -----------------------------------------------------------------------------------

    /**
     * Before JSSE loads: lets this JVM speak TLS 1.0 and 1.1, which two lines need (a probe of the student's server,
     * and an old server for the student's client), by taking just those two entries out of the JDK's disabled list.
     * A throwaway context then tells whether the JDK offers them; if not, their lines are skipped with the reason.
     * Every other socket of the check names TLS 1.3 and 1.2 itself.
     */
    static void allowLegacyTls() {
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        if (disabled != null) {
            List<String> kept = Arrays.stream(disabled.split(",")).map(String::strip)
                    .filter(entry -> LEGACY.stream().noneMatch(entry::equalsIgnoreCase)).toList();
            Security.setProperty("jdk.tls.disabledAlgorithms", String.join(", ", kept));
        }
        List<String> offered = List.of();
        try {
            SSLContext probe = SSLContext.getInstance("TLS");
            probe.init(null, null, null);
            offered = Arrays.asList(probe.getDefaultSSLParameters().getProtocols());
        } catch (GeneralSecurityException noContext) {
            // then the JDK offers none of them: probeVersions says why for the others
        }
        for (String version : LEGACY) {
            if (!offered.contains(version)) unavailable.put(version, "the JDK does not offer it even with it taken out"
                    + " of jdk.tls.disabledAlgorithms (JSSE had already started, or the JDK forbids it otherwise)");
        }
    }

    /** Proves each TLS version by a handshake between the check's own client and server; notes those that fail. */
    static void probeVersions(Identity good) throws CheckError {
        for (String version : List.of("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1")) {
            if (unavailable.containsKey(version)) continue;   // known already: allowLegacyTls found it not offered
            try (LabServer server = new LabServer(good.context(), null, version);
                 SSLSocket socket = new Probe(trusting(List.of(good.certificate()))).dial(server.port(), version)) {
                String agreed = socket.getSession().getProtocol();
                if (!agreed.equals(version)) unavailable.put(version, "it agreed to " + agreed + " instead");
            } catch (IOException | GeneralSecurityException e) {
                unavailable.put(version, "a handshake with itself failed (" + e.getClass().getSimpleName()
                        + "): see jdk.tls.disabledAlgorithms in the JDK's conf/security/java.security");
            }
        }
        if (unavailable.containsKey("TLSv1.3") && unavailable.containsKey("TLSv1.2")) {
            throw new CheckError("this JDK cannot make a TLS 1.3 or 1.2 handshake with itself here: "
                    + unavailable.get("TLSv1.2"));
        }
    }

    /** Null when this JVM can use every one of these versions; else the reason a line that needs them is skipped. */
    static String cannotUse(List<String> versions) {
        for (String version : versions) {
            if (unavailable.containsKey(version)) {
                return "this JDK cannot offer " + spoken(version) + " here: " + unavailable.get(version);
            }
        }
        return null;
    }

    /** "TLSv1.2" as people say it: "TLS 1.2"; the JDK's "TLSv1" is TLS 1.0. */
    static String spoken(String version) {
        return version.equals("TLSv1") ? "TLS 1.0" : version.replace("TLSv", "TLS ");
    }

    // ---- The student's server ----------------------------------------------------------------------------------

    /** The outcome of one check: passed or not, and what was seen. */
    record Seen(boolean pass, String what) {}

    /** A requirement of the student's server: its rubric line, the TLS versions the check needs for it, the check. */
    record ServerCheck(String name, List<String> needs, Supplier<Seen> check) {}

    /** The server under test, started again when a check made it exit, so that each line scores one requirement. */
    static final class ServerUnderTest {
        final List<String> words;
        Process process;
        int port;
        boolean startedBefore;
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
            // The first start of a ./jbang command builds the script: that wait is the build's, not the server's.
            int seconds = !startedBefore && builtByJBang(words) ? Math.max(buildSeconds, timeoutSeconds)
                    : timeoutSeconds;
            startedBefore = true;
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) return "it " + exited();
                try (Socket probe = new Socket()) {
                    probe.connect(loopback(port), WAIT_MS);
                    // A full handshake, not a bare connect-and-close: a server that dies on that would be judged on
                    // something no check asked for.
                    try (SSLSocket ready = new Probe(pkix).layer(probe, MODERN)) {
                        return null;
                    } catch (IOException untrusted) {
                        return null;   // listening is all we wait for; the checks tell what is wrong
                    }
                } catch (IOException notYet) {
                    sleep(100);
                }
            }
            return "it did not listen on port " + port + " within " + seconds + " s";
        }

        /** After a check: "" while a fresh handshake gets an answer; else what became of the server (then stopped). */
        String afterCheck() {
            if (process.isAlive() && answers()) return "";
            try {
                if (process.waitFor(EXIT_WAIT_S, TimeUnit.SECONDS)) return "; then the server " + exited();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stop(process);
            return "; then the server stopped answering, and was started again for the next line";
        }

        /** Whether a new connection gets a TLS answer: a handshake, or a refusal that only a running server sends. */
        boolean answers() {
            Probe probe = new Probe(pkix);
            try (SSLSocket socket = probe.dial(port, MODERN)) {
                return true;
            } catch (IOException e) {
                return probe.leaf != null || e instanceof SSLException && !causedBy(e, EOFException.class)
                        && !causedBy(e, SocketException.class);
            }
        }

        String exited() {
            // Its own words, unless they are a stack trace: those are long, and worded differently by each JDK.
            return "exited with status " + process.exitValue() + (stackTrace ? " after a stack trace"
                    : lastLine.isEmpty() ? "" : ", its last line: \"" + lastLine + "\"");
        }
    }

    static void checkServer(List<String> words) {
        ServerUnderTest server = new ServerUnderTest(words);
        List<String> modern = List.of();   // TLS 1.3 or 1.2: the start-up has proven that one of them works
        List<ServerCheck> checks = List.of(
                new ServerCheck("server: TLS 1.3 handshake, certificate and host name verified", List.of("TLSv1.3"),
                        () -> handshake(server.port, "TLSv1.3")),
                new ServerCheck("server: TLS 1.2 handshake, certificate and host name verified", List.of("TLSv1.2"),
                        () -> handshake(server.port, "TLSv1.2")),
                new ServerCheck("server: refuses TLS 1.0 and 1.1", LEGACY, () -> refusesOldVersions(server.port)),
                new ServerCheck("server: its certificate is trusted and names DNS:localhost and IP:127.0.0.1", modern,
                        () -> certificate(server.port)),
                new ServerCheck("server: echoes byte-exact (20000 bytes, every byte value)", modern,
                        () -> byteExact(server.port)),
                new ServerCheck("server: still serves after a plaintext client (GET / HTTP/1.0)", modern,
                        () -> afterPlaintext(server.port)),
                new ServerCheck("server: serves a client while a silent one is connected", modern,
                        () -> besideSilent(server.port)),
                new ServerCheck("server: serves " + CLIENTS_AT_ONCE + " clients at once", modern,
                        () -> atOnce(server.port)));
        boolean didNotStart = false;
        try {
            for (ServerCheck check : checks) {
                String cannot = cannotUse(check.needs());
                if (cannot != null) {
                    skip(check.name(), cannot);
                    continue;
                }
                if (!didNotStart && (server.process == null || !server.process.isAlive())) {
                    String problem = server.start();
                    if (problem != null) {
                        System.err.println("LabCheck: the server did not start: " + problem + ".");
                        System.err.println("Run its command yourself, in this folder, to see why: "
                                + String.join(" ", server.words));
                        didNotStart = notStarted = true;
                    }
                }
                if (didNotStart) {
                    rubric(check.name(), false, "not run");
                    continue;
                }
                Seen seen = check.check().get();
                rubric(check.name(), seen.pass(), seen.what() + server.afterCheck());
            }
        } finally {
            stop(server.process);
        }
    }

    static Seen handshake(int port, String version) {
        try (SSLSocket socket = new Probe(pkix).dial(port, version)) {
            return new Seen(true, socket.getSession().getProtocol() + ", " + socket.getSession().getCipherSuite());
        } catch (IOException e) {
            return new Seen(false, problem(e));
        }
    }

    static Seen refusesOldVersions(int port) {
        Probe probe = new Probe(pkix);
        try (SSLSocket socket = probe.dial(port, LEGACY.toArray(String[]::new))) {
            return new Seen(false, "it agreed to " + socket.getSession().getProtocol());
        } catch (IOException e) {
            // The version is chosen before the certificate is checked: a refusal of the certificate can hide a "yes".
            return probe.version == null ? new Seen(true, "refused")
                    : new Seen(false, "it agreed to " + probe.version);
        }
    }

    static Seen certificate(int port) {
        Probe probe = new Probe(pkix);
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

    /** The payload, then a short second message: any bytes the server adds after an echo come before the second's. */
    static Seen byteExact(int port) {
        byte[] payload = payload(20_000), second = "and nothing more\n".getBytes(StandardCharsets.US_ASCII);
        try (SSLSocket socket = new Probe(pkix).dial(port, MODERN)) {
            String problem = roundTrip(socket, payload);
            if (problem != null) return new Seen(false, problem);
            String more = roundTrip(socket, second);
            return new Seen(more == null, more == null ? "the same " + payload.length + " bytes came back, and nothing"
                    + " more" : "the same " + payload.length + " bytes came back, but then a second message: " + more
                    + " (did it send bytes of its own after the echo?)");
        } catch (IOException e) {
            return new Seen(false, problem(e));
        }
    }

    static Seen echo(int port, byte[] payload) {
        try (SSLSocket socket = new Probe(pkix).dial(port, MODERN)) {
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

    static Seen afterPlaintext(int port) {
        try (Socket plain = new Socket()) {
            plain.connect(loopback(port), WAIT_MS);
            plain.setSoTimeout(WAIT_MS);
            plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            plain.getInputStream().readAllBytes();   // its alert, until it hangs up: the plain text has been dealt with
        } catch (IOException e) {
            // Hanging up at once, or a reset, is a fine answer to plain text.
        }
        Seen after = echo(port, payload(100));
        return new Seen(after.pass(), after.pass() ? "a verifying client echoed after it" : "no echo after it: "
                + after.what());
    }

    static Seen besideSilent(int port) {
        // Connected first, so it is accepted first: the kernel hands connections to accept() in order.
        try (Socket silent = new Socket()) {
            silent.connect(loopback(port), WAIT_MS);
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
                try (SSLSocket socket = new Probe(pkix).dial(port, MODERN)) {
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
     * A client as the lab's should be: it trusts exactly what its trust manager trusts and checks the host name. Every
     * decision is the JDK's trust manager's; before asking it, the probe notes what the server sent and which version
     * it chose, so that a refused handshake can still say what was seen.
     */
    static final class Probe extends X509ExtendedTrustManager {
        final X509ExtendedTrustManager trust;
        volatile X509Certificate leaf;
        volatile String version;

        Probe(X509ExtendedTrustManager trust) { this.trust = trust; }

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
            trust.checkServerTrusted(chain, authType, socket);
        }

        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            trust.checkServerTrusted(chain, authType, engine);
        }

        @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            trust.checkServerTrusted(chain, authType);
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            trust.checkClientTrusted(chain, authType, socket);
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            trust.checkClientTrusted(chain, authType, engine);
        }

        @Override public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            trust.checkClientTrusted(chain, authType);
        }

        @Override public X509Certificate[] getAcceptedIssuers() { return trust.getAcceptedIssuers(); }
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
    /** The check's own certificates, by name, as keytool options; {trust} names their .crt files. */
    static final Map<String, List<String>> IDENTITIES = Map.of(
            "good", List.of("-dname", "CN=Lab Check Server", "-ext", "san=dns:localhost,ip:127.0.0.1,"
                    + "dns:report.labcheck.invalid", "-validity", "" + ChronoUnit.DAYS.between(GOOD_FROM, GOOD_UNTIL),
                    "-startdate", GOOD_FROM.toString().replace('-', '/') + " 12:00:00"),
            "untrusted", List.of("-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1"),
            "wrongname", List.of("-dname", "CN=other.labcheck.invalid", "-ext", "san=dns:other.labcheck.invalid"),
            "expired", List.of("-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1", "-startdate",
                    "-30d", "-validity", "1"));

    static void checkClient(List<String> words, Map<String, Identity> servers) throws CheckError {
        int before = rubric.size();
        try {
            clientChecks(words, servers);
        } catch (NotStarted e) {
            notStarted = true;
            for (int i = rubric.size() - before; i < CLIENT_CHECKS.length; i++) {
                rubric(CLIENT_CHECKS[i], false, "not run");
            }
        } catch (IOException e) {
            throw new CheckError("cannot run its own TLS servers on loopback (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** What one of the check's servers presents: its key and certificate, and the certificate for clients. */
    record Identity(SSLContext context, X509Certificate certificate) {}

    /** The certificates named, made by keytool in a private folder. */
    static Map<String, Identity> identities(Set<String> names) throws CheckError {
        try {
            tempDir = Files.createTempDirectory("labcheck-");   // owner-only: it holds private keys and a password
            Path password = tempDir.resolve("keys.pass");
            Files.writeString(password, HexFormat.of().formatHex(new SecureRandom().generateSeed(16)));
            ExecutorService keytools = Executors.newFixedThreadPool(2);   // a JVM start each: two at a time
            Map<String, Future<Identity>> made = new HashMap<>();
            for (String name : names) made.put(name, keytools.submit(() -> keytool(name, password,
                    IDENTITIES.get(name))));
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
        context.init(new KeyManager[] {new SigningNotes((X509ExtendedKeyManager) factory.getKeyManagers()[0])}, null,
                null);
        X509Certificate certificate = (X509Certificate) keys.getCertificate("server");
        Files.writeString(tempDir.resolve(name + ".crt"), "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64,
                new byte[] {'\n'}).encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        return new Identity(context, certificate);
    }

    static void clientChecks(List<String> words, Map<String, Identity> servers) throws IOException {
        String line = "lab check " + randomHex(6), word = "answer-" + randomHex(4);
        Identity good = servers.get("good");
        if (builtByJBang(words)) {
            System.err.println("LabCheck: a first run of the client, not marked, so that JBang builds it (at most "
                    + buildSeconds + " s)");
            try (LabServer server = new LabServer(good.context(), null, MODERN)) {
                runClient(words, server, "good", line, buildSeconds);
            }
        }
        try (LabServer honest = new LabServer(good.context(), null, MODERN);
             LabServer answering = new LabServer(good.context(), word, MODERN)) {
            ClientRun run = runClient(words, honest, "good", line, timeoutSeconds);
            String problem = echoProblem(run, honest, line);
            if (problem == null) {
                // A client that prints what it sent, not what came back, looks the same against an honest server.
                ClientRun answered = runClient(words, answering, "good", line, timeoutSeconds);
                String answer = line + " " + word;
                if (answered.hung) problem = "against a server that adds a word to its answer: " + answered.hungFor();
                else if (!(answered.out + answered.err).contains(answer)) {
                    problem = "it did not print what the server sent back: \"" + answer + "\", from a server that adds"
                            + " a word, is not in its output";
                }
            }
            rubric(CLIENT_CHECKS[0], problem == null, problem == null ? "exit 0, the echo seen; and a server's other"
                    + " answer printed as it came" : problem);
            List<String> missing = missing(run.out + run.err, good.certificate(), honest.completed());
            rubric(CLIENT_CHECKS[1], missing.isEmpty(), missing.isEmpty()
                    ? "subject, names, dates, serial, key, signature, fingerprint, TLS version, cipher suite"
                    : "missing: " + String.join(", ", missing));
        }
        refusal(words, CLIENT_CHECKS[2], servers.get("untrusted").context(), "good", MODERN, line);
        refusal(words, CLIENT_CHECKS[3], servers.get("wrongname").context(), "wrongname", MODERN, line);
        refusal(words, CLIENT_CHECKS[4], servers.get("expired").context(), "expired", MODERN, line);
        String cannot = cannotUse(List.of("TLSv1"));
        if (cannot != null) skip(CLIENT_CHECKS[5], cannot);
        else refusal(words, CLIENT_CHECKS[5], good.context(), "good", new String[] {"TLSv1"}, line);
    }

    /** Null when the client, fed the line, exited 0 with it echoed in its output; else what it did instead. */
    static String echoProblem(ClientRun run, LabServer server, String line) {
        if (run.hung) return run.hungFor();
        String notReached = server.received().contains(line) ? "" : ", the line never reached the server";
        if (run.exit != 0) {
            return "exit " + run.exit + (server.completed() == null ? ", no handshake" : "") + notReached
                    + run.message().stream().findFirst().map(first -> ": " + shorten(first)).orElse("");
        }
        if (!notReached.isEmpty()) return "exit 0" + notReached;
        return run.out.contains(line) ? null : "exit 0, but the echo is not in its output";
    }

    /** The credit task's fields (workbook Step 5) that the client's output lacks, looked for in the usual spellings. */
    static List<String> missing(String output, X509Certificate good, Connection session) {
        String hex = output.replaceAll("[:\\s]", "").toUpperCase();   // colon-hex and plain hex alike, any case
        String fingerprint;
        try {
            fingerprint = HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(good.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        Map<String, Boolean> fields = new LinkedHashMap<>();
        fields.put("subject", output.contains("Lab Check Server"));
        fields.put("alternative names", output.contains("report.labcheck.invalid"));
        fields.put("not before", year(output, GOOD_FROM.getYear()));
        fields.put("not after", year(output, GOOD_UNTIL.getYear()));
        fields.put("serial number", hex.contains(good.getSerialNumber().toString(16).toUpperCase())
                || output.contains(good.getSerialNumber().toString()));
        fields.put("public key", found(output, "\\bEC\\b|ecPublicKey|\\b(secp256r1|prime256v1|P-256)\\b"));
        // keytool signs an EC P-256 certificate SHA256withECDSA: as the JDK, OpenSSL (ecdsa-with-SHA256) or an OID.
        String ecdsaWithSha256 = "(?i)sha-?256\\s*with\\s*ecdsa"
                + "|ecdsa[-_ ]?with[-_ ]?sha-?256|1\\.2\\.840\\.10045\\.4\\.3\\.2";
        fields.put("signature algorithm", good.getSigAlgName().equals("SHA256withECDSA")
                ? found(output, ecdsaWithSha256) : output.contains(good.getSigAlgName()));
        fields.put("SHA-256 fingerprint", hex.contains(fingerprint));
        String version = session == null ? null : session.version, suite = session == null ? null : session.suite;
        fields.put("TLS version", version != null && found(output, "(?i)\\bTLS ?v?" + Pattern.quote(
                version.substring("TLSv".length())) + "(?![0-9])"));
        fields.put("cipher suite", suite != null && (output.contains(suite) || output.contains(openSslName(suite))));
        return fields.entrySet().stream().filter(field -> !field.getValue()).map(Map.Entry::getKey).toList();
    }

    static boolean found(String output, String regex) {
        return Pattern.compile(regex).matcher(output).find();
    }

    static boolean year(String output, int year) {
        return found(output, "(?<![0-9A-Fa-f])" + year + "(?![0-9A-Fa-f])");
    }

    /**
     * A cipher suite's OpenSSL name: TLS 1.3's are the IANA names the JDK uses; before 1.3, the IANA name
     * TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 is ECDHE-ECDSA-AES128-GCM-SHA256 (CBC suites drop "CBC").
     */
    static String openSslName(String iana) {
        String[] parts = iana.replaceFirst("^TLS_", "").split("_WITH_");
        if (parts.length != 2) return iana;
        String cipher = parts[1].replace("AES_128", "AES128").replace("AES_256", "AES256").replace("_CBC", "")
                .replace("CHACHA20_POLY1305_SHA256", "CHACHA20_POLY1305");
        return (parts[0].equals("RSA") ? "" : parts[0] + "-") + cipher.replace('_', '-');
    }

    /**
     * A refusal passes when the client exits non-zero, sent the server no data, stopped the handshake where it should
     * (seen on the wire), printed no stack trace, and said why in one or two lines on stderr (lecture 8.3).
     */
    static void refusal(List<String> words, String check, SSLContext context, String trust, String[] versions,
            String line) throws IOException {
        try (LabServer server = new LabServer(context, null, versions)) {
            ClientRun run = runClient(words, server, trust, line, timeoutSeconds);
            List<String> message = run.message();
            String wire = server.refusalProblem(), seen;
            if (run.hung) seen = run.hungFor();
            else if (run.exit == 0) seen = "exit 0: it did not refuse";
            else if (!server.received().isEmpty()) seen = "exit " + run.exit + ", but it first sent data to the server";
            else if (wire != null) seen = "exit " + run.exit + ", but " + wire;
            else if (STACK_TRACE.matcher(run.out + run.err).find()) seen = "exit " + run.exit + ", with a stack trace";
            else if (message.isEmpty()) seen = "exit " + run.exit + ", but no message on stderr";
            else if (message.size() > 2) seen = "exit " + run.exit + ", but " + message.size() + " lines on stderr";
            else seen = null;
            rubric(check, seen == null, seen == null ? "exit " + run.exit + ", " + server.ending() + ": "
                    + shorten(message.get(0)) : seen);
        }
    }

    record ClientRun(boolean hung, int seconds, int exit, String out, String err) {
        String hungFor() { return "hung: still running after " + seconds + " s"; }

        /** Its error message: the lines on stderr that the program wrote, not the launcher or the JVM. */
        List<String> message() {
            return err.lines().filter(l -> !l.isBlank() && !NOT_THE_PROGRAMS.matcher(l).find()).toList();
        }
    }

    /** Runs the client once against a server, feeding it one line; NotStarted when its command cannot run. */
    static ClientRun runClient(List<String> words, LabServer server, String trust, String line, int seconds) {
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
            boolean hung = !client.waitFor(seconds, TimeUnit.SECONDS);
            stop(client);
            server.awaitConnectionsEnded();   // the client is gone, so are its connections: let the server see that
            return new ClientRun(hung, seconds, hung ? -1 : client.exitValue(), out.get(), err.get());
        } catch (InterruptedException | ExecutionException e) {
            stop(client);
            return new ClientRun(true, seconds, -1, "", "");
        }
    }

    /** Thrown when the client under test cannot be started at all: its checks left are lost. */
    static final class NotStarted extends RuntimeException {}

    /** What one of the check's servers saw of one connection: on the wire first, then in its TLS handshake. */
    static final class Connection {
        final CountDownLatch ended = new CountDownLatch(1);
        volatile int bytesBeforeHello;
        volatile List<String> offered;    // the versions in its ClientHello; null when none came
        volatile String version, suite;   // when the handshake completed
        volatile boolean certificateSent; // the server took its key to send its certificate
        volatile String end = "";         // how the handshake ended, when it did not complete
        volatile boolean serverEnded;     // ... by the check's server itself, before its certificate
    }

    /**
     * The check's servers' key manager, which notes on the connection being served when JSSE takes the key to send
     * the certificate. A handshake that fails after that was ended by the client, whatever the JDK names the failure.
     */
    static final class SigningNotes extends X509ExtendedKeyManager {
        static final ThreadLocal<Connection> serving = new ThreadLocal<>();
        final X509ExtendedKeyManager keys;

        SigningNotes(X509ExtendedKeyManager keys) { this.keys = keys; }

        @Override public PrivateKey getPrivateKey(String alias) {
            Connection connection = serving.get();
            if (connection != null) connection.certificateSent = true;
            return keys.getPrivateKey(alias);
        }

        @Override public X509Certificate[] getCertificateChain(String alias) { return keys.getCertificateChain(alias); }

        @Override public String[] getServerAliases(String type, Principal[] issuers) {
            return keys.getServerAliases(type, issuers);
        }

        @Override public String chooseServerAlias(String type, Principal[] issuers, Socket socket) {
            return keys.chooseServerAlias(type, issuers, socket);
        }

        @Override public String[] getClientAliases(String type, Principal[] issuers) {
            return keys.getClientAliases(type, issuers);
        }

        @Override public String chooseClientAlias(String[] types, Principal[] issuers, Socket socket) {
            return keys.chooseClientAlias(types, issuers, socket);
        }
    }

    /**
     * A TLS echo server in this JVM, on a free loopback port, that notes what the client did: it reads the ClientHello
     * off the wire itself (which versions the client offered), then hands the connection to JSSE. With a word, it
     * answers each line with that word added instead of echoing it.
     */
    static final class LabServer implements AutoCloseable {
        static final Pattern ALERT = Pattern.compile("Received fatal alert: (\\w+)|Received (close_notify)");
        final ServerSocket listener;
        final SSLSocketFactory tls;
        final List<String> versions;
        final String word;
        final List<Connection> connections = new CopyOnWriteArrayList<>();
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        LabServer(SSLContext context, String word, String... versions) throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            tls = context.getSocketFactory();
            this.versions = List.of(versions);
            this.word = word;
            daemon(() -> {
                while (true) {
                    try {
                        Socket socket = listener.accept();
                        Connection connection = new Connection();
                        connections.add(connection);
                        daemon(() -> serve(socket, connection));
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
        void serve(Socket tcp, Connection connection) {
            try (tcp) {
                ClientHello hello = ClientHello.read(tcp.getInputStream());
                connection.bytesBeforeHello = hello.wire().length;
                if (hello.offered() == null) return;
                connection.offered = hello.offered();
                SSLSocket socket = (SSLSocket) tls.createSocket(tcp, new ByteArrayInputStream(hello.wire()), true);
                socket.setEnabledProtocols(versions.toArray(String[]::new));
                SigningNotes.serving.set(connection);
                try {
                    socket.startHandshake();
                } catch (IOException e) {
                    // The alert's name, when this JDK's message gives it, is only a detail of the line.
                    Matcher alert = ALERT.matcher(String.valueOf(e.getMessage()));
                    if (!connection.certificateSent) {
                        connection.end = "the check's server ended the handshake before sending its certificate ("
                                + e.getClass().getSimpleName() + ")";
                        connection.serverEnded = true;
                    } else if (alert.find()) {
                        connection.end = "it sent the alert " + (alert.group(1) != null ? alert.group(1)
                                : alert.group(2));
                    } else {
                        connection.end = "it ended the handshake after the server's certificate";
                    }
                    return;
                }
                connection.version = socket.getSession().getProtocol();
                connection.suite = socket.getSession().getCipherSuite();
                answer(socket);
            } catch (IOException e) {
                // The client went away: what it did is noted above.
            } finally {
                connection.ended.countDown();
            }
        }

        void answer(SSLSocket socket) throws IOException {
            ByteArrayOutputStream pending = new ByteArrayOutputStream();   // the line so far, for the other answer
            byte[] buffer = new byte[4096];
            for (int n; (n = socket.getInputStream().read(buffer)) != -1; ) {
                synchronized (received) {
                    received.write(buffer, 0, n);
                }
                if (word == null) {
                    socket.getOutputStream().write(buffer, 0, n);
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != '\n') {
                        pending.write(buffer[i]);
                        continue;
                    }
                    String line = pending.toString(StandardCharsets.UTF_8).replaceFirst("\r$", "");
                    socket.getOutputStream().write((line + " " + word + "\n").getBytes(StandardCharsets.UTF_8));
                    pending.reset();
                }
            }
        }

        void awaitConnectionsEnded() throws InterruptedException {
            for (Connection connection : connections) connection.ended.await(WAIT_MS, TimeUnit.MILLISECONDS);
        }

        /** The last connection whose handshake completed, or null. */
        Connection completed() {
            Connection last = null;
            for (Connection connection : connections) if (connection.version != null) last = connection;
            return last;
        }

        /**
         * Null when the wire shows a refusal where this server expects one: for a TLS 1.0-only server, a ClientHello
         * that offers no TLS 1.0, or a handshake the client stopped; for the others, a handshake that the client
         * stopped after the server's certificate (see SigningNotes). Else what the wire shows.
         */
        String refusalProblem() {
            if (connections.isEmpty()) return "it never connected to the check's server";
            List<Connection> hellos = connections.stream().filter(c -> c.offered != null).toList();
            if (hellos.isEmpty()) {
                int bytes = connections.get(0).bytesBeforeHello;
                return bytes == 0 ? "it connected and sent no ClientHello"
                        : "it connected but sent no TLS ClientHello (" + bytes + " other bytes)";
            }
            boolean tls10Only = versions.equals(List.of("TLSv1"));
            for (Connection c : hellos) {
                if (c.offered.stream().noneMatch(versions::contains)) {
                    if (tls10Only) continue;   // what that line asks for
                    return "its ClientHello offered only " + spokenList(c.offered)
                            + ": it never got the server's certificate";
                }
                if (c.version != null && tls10Only) return "it agreed to TLS 1.0";
                if (c.serverEnded) return c.end;
            }
            return null;
        }

        /** How the last connection's handshake ended, for a refusal's line. */
        String ending() {
            Connection last = null;
            for (Connection connection : connections) if (connection.offered != null) last = connection;
            if (versions.equals(List.of("TLSv1")) && last.offered.stream().noneMatch(versions::contains)) {
                return "it offered " + spokenList(last.offered);
            }
            return last.version != null ? "it closed the connection after the handshake, before any data" : last.end;
        }

        @Override public void close() throws IOException { listener.close(); }
    }

    static String spokenList(List<String> versions) {
        return versions.isEmpty() ? "no version" : String.join(", ", versions.stream().map(LabCheck::spoken).toList());
    }

    /** The client's first handshake message, read off the wire before JSSE sees it, for the versions it offers. */
    record ClientHello(byte[] wire, List<String> offered) {
        static final int HANDSHAKE = 22, CLIENT_HELLO = 1, SUPPORTED_VERSIONS = 43, MAX_LENGTH = 1 << 16;

        /** Reads whole TLS records until they hold one whole handshake message; offered is null if that fails. */
        static ClientHello read(InputStream in) throws IOException {
            ByteArrayOutputStream wire = new ByteArrayOutputStream(), message = new ByteArrayOutputStream();
            while (message.size() < 4 || message.size() < 4 + number(message.toByteArray(), 1, 3)) {
                byte[] header = in.readNBytes(5);
                wire.write(header);
                if (header.length < 5 || header[0] != HANDSHAKE || header[1] != 3) {
                    return new ClientHello(wire.toByteArray(), null);   // closed, or not TLS
                }
                byte[] body = in.readNBytes(number(header, 3, 2));
                wire.write(body);
                message.write(body);
                byte[] sofar = message.toByteArray();
                if (body.length < number(header, 3, 2) || sofar.length > 0 && sofar[0] != CLIENT_HELLO
                        || sofar.length >= 4 && number(sofar, 1, 3) > MAX_LENGTH) {
                    return new ClientHello(wire.toByteArray(), null);
                }
            }
            try {
                return new ClientHello(wire.toByteArray(), versions(message.toByteArray()));
            } catch (ArrayIndexOutOfBoundsException malformed) {
                return new ClientHello(wire.toByteArray(), null);
            }
        }

        /** RFC 8446 4.1.2: the supported_versions extension, if any, replaces the older legacy_version field. */
        static List<String> versions(byte[] hello) {
            int legacy = number(hello, 4, 2);
            int at = 4 + 2 + 32;                  // the message header, legacy_version, random
            at += 1 + number(hello, at, 1);       // legacy_session_id
            at += 2 + number(hello, at, 2);       // cipher_suites
            at += 1 + number(hello, at, 1);       // legacy_compression_methods
            int end = at + 2 <= hello.length ? at + 2 + number(hello, at, 2) : at;
            for (at += 2; at + 4 <= end; at += 4 + number(hello, at + 2, 2)) {
                if (number(hello, at, 2) != SUPPORTED_VERSIONS) continue;
                List<String> offered = new ArrayList<>();
                for (int v = at + 5; v + 2 <= at + 4 + number(hello, at + 2, 2); v += 2) {
                    int version = number(hello, v, 2);
                    if ((version & 0x0f0f) != 0x0a0a) offered.add(name(version));   // not a GREASE value
                }
                return offered;
            }
            // Without it: legacy_version is the highest it speaks; the wire does not say which lower ones it refuses.
            List<String> offered = new ArrayList<>();
            for (int version = Math.min(legacy, 0x0303); version >= 0x0301; version--) offered.add(name(version));
            return offered;
        }

        static String name(int version) {
            return switch (version) {
                case 0x0300 -> "SSLv3";
                case 0x0301 -> "TLSv1";
                case 0x0302 -> "TLSv1.1";
                case 0x0303 -> "TLSv1.2";
                case 0x0304 -> "TLSv1.3";
                default -> String.format("0x%04x", version);
            };
        }

        static int number(byte[] bytes, int at, int length) {
            int value = 0;
            for (int i = at; i < at + length; i++) value = value << 8 | bytes[i] & 0xff;
            return value;
        }
    }

    static String randomHex(int bytes) {
        return HexFormat.of().formatHex(new SecureRandom().generateSeed(bytes));
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
