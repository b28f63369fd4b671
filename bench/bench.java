///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Load generator for a TLS echo server on this machine, with certificate and host-name verification always on. */
@Command(name = "bench", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = {
            "Drives a TLS echo server on loopback; prints one machine-readable RESULT line.",
            "  handshake  per connector: connect, full handshake (never resumed), echo, close",
            "  echo       persistent connections, each sending a line and awaiting its echo",
            "  bulk       one connection: 16 KiB writes, a reader checks every echoed byte",
            "  hold       open, handshake, hold connections; then the server's RSS (--pid)",
            ""},
        footer = {"", "Exit status: 0 measured, 1 the run failed (errors, a resumed session, a wrong",
            "echo), 2 usage error."})
public class bench implements Callable<Integer> {
    enum Mode { handshake, echo, bulk, hold }

    static final int CHUNK = 16 * 1024;
    /** How many connections echo and hold open at once. */
    static final int OPENERS = 8;
    /** Upper bounds that keep every loop finite even if the clock misbehaves. */
    static final long MAX_OPS_PER_WORKER = 50_000_000L;
    static final long MAX_BULK_BYTES = 1L << 40;

    @Parameters(index = "0", description = "handshake, echo, bulk or hold") Mode mode;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "a loopback name or address (default: ${DEFAULT-VALUE})")
    String host;
    @Option(names = {"-p", "--port"}, required = true, description = "the server's port") int port;
    @Option(names = "--trust", defaultValue = "certs/server.crt", description = "PEM certificate(s) to trust, and only these (default: ${DEFAULT-VALUE})")
    Path trust;
    @Option(names = {"-c", "--concurrency"}, description = "connectors (handshake, default 8), connections (echo, default 256; hold, default 1000)")
    Integer concurrency;
    @Option(names = {"-d", "--duration"}, defaultValue = "5", description = "seconds measured (default: ${DEFAULT-VALUE})")
    double duration;
    @Option(names = {"-w", "--warmup"}, defaultValue = "2", description = "seconds of load before measuring; hold: seconds to settle before reading RSS (default: ${DEFAULT-VALUE})")
    double warmup;
    @Option(names = "--tls", defaultValue = "1.3", split = ",", description = "protocol versions offered (default: ${DEFAULT-VALUE})")
    List<String> tls;
    @Option(names = "--pid", description = "the server's process id, for hold") Long pid;
    @Option(names = "--label", defaultValue = "server", description = "the server's name in the RESULT line (default: ${DEFAULT-VALUE})")
    String label;
    @Option(names = "--timeout", defaultValue = "10", description = "seconds any one connect, handshake or read may take (default: ${DEFAULT-VALUE})")
    int timeout;

    public static void main(String... args) {
        System.exit(new CommandLine(new bench()).execute(args));
    }

    @Override public Integer call() throws Exception {
        var cli = new CommandLine(this);
        if (!InetAddress.getByName(host).isLoopbackAddress()) {
            throw new CommandLine.ParameterException(cli, "--host must be a loopback address: this load stays on this machine");
        }
        if (mode == Mode.hold && pid == null) throw new CommandLine.ParameterException(cli, "hold needs --pid of the server");
        if (duration <= 0 || duration > 3600 || warmup < 0 || warmup > 3600) {
            throw new CommandLine.ParameterException(cli, "--duration must be in (0, 3600] and --warmup in [0, 3600] seconds");
        }
        int n = concurrency != null ? concurrency : switch (mode) {
            case handshake -> 8;
            case echo -> 256;
            case bulk -> 1;
            case hold -> 1000;
        };
        if (n < 1 || n > 20_000) throw new CommandLine.ParameterException(cli, "--concurrency must be 1 to 20000");
        Result result = run(new Config(mode, host, port, trust, n, duration, warmup, tls, pid == null ? 0 : pid, label, timeout * 1000));
        System.out.println(result.line());
        return result.ok() ? 0 : 1;
    }

    /** One run's settings; {@code compare.java} builds these directly. */
    record Config(Mode mode, String host, int port, Path trust, int concurrency, double durationSeconds,
                  double warmupSeconds, List<String> tls, long pid, String label, int timeoutMillis) {}

    static Result run(Config config) throws IOException, GeneralSecurityException, InterruptedException {
        var client = new Client(config);
        return switch (config.mode()) {
            case handshake -> handshakes(config, client);
            case echo -> echoes(config, client);
            case bulk -> bulk(config, client);
            case hold -> hold(config, client);
        };
    }

    // ---- the four modes ----

    static Result handshakes(Config config, Client client) throws InterruptedException {
        var clock = new Clock(config);
        List<Stats> all = runWorkers(config.concurrency(), worker -> {
            var stats = new Stats();
            // One context per connector, emptied after every connection: nothing is left to resume from.
            SSLContext context = client.newContext();
            byte[] buffer = new byte[64];
            for (long i = 0; i < MAX_OPS_PER_WORKER && System.nanoTime() < clock.end; i++) {
                byte[] message = line("handshake " + worker + " " + i);
                long start = System.nanoTime();
                long wallStart = System.currentTimeMillis();
                try {
                    if (context.getClientSessionContext().getIds().hasMoreElements()) stats.resumed++;
                    try (SSLSocket socket = client.open(context)) {
                        // A full handshake makes a new session; a resumed one keeps its first creation time.
                        if (socket.getSession().getCreationTime() < wallStart) stats.resumed++;
                        stats.check(socket, message, buffer);
                    }
                } catch (IOException e) {
                    stats.error(e);
                }
                forgetSessions(context.getClientSessionContext());
                clock.record(stats, start, System.nanoTime());
            }
            return stats;
        });
        return clock.result(config, Stats.merge(all));
    }

    static Result echoes(Config config, Client client) throws InterruptedException {
        var connected = new CountDownLatch(config.concurrency());
        // Connections open a few at a time, as in a class: a storm of connects would overflow the accept backlog.
        var opening = new Semaphore(OPENERS);
        var go = new CountDownLatch(1);
        var clock = new Clock[1];
        SSLContext context = client.newContext();
        List<Stats> all = runWorkers(config.concurrency(), worker -> {
            var stats = new Stats();
            SSLSocket socket;
            opening.acquire();
            try {
                socket = client.open(context);
            } catch (IOException e) {
                stats.error(e);
                return stats;
            } finally {
                opening.release();
                connected.countDown();
            }
            try (socket) {
                if (!go.await(config.timeoutMillis() + 60_000L, TimeUnit.MILLISECONDS)) return stats;
                byte[] buffer = new byte[64];
                for (long i = 0; i < MAX_OPS_PER_WORKER && System.nanoTime() < clock[0].end; i++) {
                    byte[] message = line("echo " + worker + " " + i);
                    long start = System.nanoTime();
                    stats.check(socket, message, buffer);
                    clock[0].record(stats, start, System.nanoTime());
                }
            } catch (IOException e) {
                stats.error(e);
            }
            return stats;
        }, () -> {
            // All connections are open (or failed) before the clock starts: this mode measures round trips only.
            connected.await(config.timeoutMillis() + 60_000L, TimeUnit.MILLISECONDS);
            clock[0] = new Clock(config);
            go.countDown();
        });
        return clock[0].result(config, Stats.merge(all));
    }

    static Result bulk(Config config, Client client) throws IOException, InterruptedException {
        byte[] pattern = pattern();
        var stats = new Stats();
        var clock = new Clock(config);
        var written = new AtomicLong();
        var writerDone = new CountDownLatch(1);
        var writerFailure = new AtomicReference<IOException>();
        long measuredBytes = 0;
        double measuredSeconds = 0;
        try (SSLSocket socket = client.open(client.newContext())) {
            stats.note(socket);
            Thread writer = new Thread(() -> {
                try {
                    var out = socket.getOutputStream();
                    for (long at = 0; at < MAX_BULK_BYTES && System.nanoTime() < clock.end; at += CHUNK) {
                        out.write(pattern, (int) (at % PERIOD), CHUNK);
                        written.set(at + CHUNK);
                    }
                } catch (IOException e) {
                    writerFailure.set(e);
                } finally {
                    writerDone.countDown();
                }
            }, "bulk writer");
            writer.setDaemon(true);
            writer.start();

            // The reader checks every byte against the pattern at its stream position, and times the
            // bytes that came back between the end of the warm-up and the end of the run.
            var in = socket.getInputStream();
            byte[] buffer = new byte[CHUNK];
            long at = 0, fromBytes = -1, fromTime = 0, toBytes = 0, toTime = 0;
            long giveUp = clock.end + TimeUnit.MILLISECONDS.toNanos(config.timeoutMillis());
            while (System.nanoTime() < giveUp && !(writerDone.getCount() == 0 && at == written.get())) {
                int n = in.read(buffer);
                if (n < 0) throw new IOException("the server closed the connection after " + at + " bytes");
                int offset = (int) (at % PERIOD);
                if (!Arrays.equals(buffer, 0, n, pattern, offset, offset + n)) {
                    stats.mismatches++;
                    break;
                }
                at += n;
                stats.verifiedBytes += n;
                long now = System.nanoTime();
                if (fromBytes < 0 && now >= clock.measureFrom) {
                    fromBytes = at;
                    fromTime = now;
                }
                if (now <= clock.end) {
                    toBytes = at;
                    toTime = now;
                }
            }
            if (stats.mismatches == 0 && at != written.get()) {
                stats.error(new IOException("only " + at + " of " + written.get() + " bytes came back"));
            }
            writer.join(config.timeoutMillis());
            if (writerFailure.get() != null) stats.error(writerFailure.get());
            if (fromBytes >= 0 && toTime > fromTime) {
                measuredBytes = toBytes - fromBytes;
                measuredSeconds = (toTime - fromTime) / 1e9;
            }
        } catch (IOException e) {
            stats.error(e);
        }
        Result result = new Result(config, stats).put("mb_per_s", measuredSeconds > 0 ? measuredBytes / 1e6 / measuredSeconds : 0.0);
        Duration cpu = clock.serverCpu(config);
        if (cpu != null) {
            result.put("server_cpu_s", cpu.toNanos() / 1e9);
            if (measuredBytes > 0) result.put("server_cpu_ms_per_mb", cpu.toNanos() / 1e6 / (measuredBytes / 1e6));
        }
        return result;
    }

    static Result hold(Config config, Client client) throws IOException, InterruptedException {
        long idleKb = rssKb(config.pid());
        List<SSLSocket> held = Collections.synchronizedList(new ArrayList<>());
        int openers = Math.min(OPENERS, config.concurrency());
        var next = new AtomicLong();
        long started = System.nanoTime();
        List<Stats> all = runWorkers(openers, worker -> {
            var stats = new Stats();
            SSLContext context = client.newContext();
            byte[] buffer = new byte[64];
            for (long i; (i = next.getAndIncrement()) < config.concurrency(); ) {
                try {
                    SSLSocket socket = client.open(context);
                    try {
                        stats.check(socket, line("hold " + i), buffer);
                        held.add(socket);
                    } catch (IOException e) {
                        socket.close();
                        throw e;
                    }
                } catch (IOException e) {
                    stats.error(e);
                }
                forgetSessions(context.getClientSessionContext());
            }
            return stats;
        });
        double openSeconds = (System.nanoTime() - started) / 1e9;
        Thread.sleep((long) (config.warmupSeconds() * 1000));
        long heldKb = rssKb(config.pid());

        // Every held connection must still echo: a server that dropped idle clients would look cheap.
        Stats stats = Stats.merge(all);
        byte[] buffer = new byte[64];
        try {
            for (SSLSocket socket : held) {
                try {
                    stats.check(socket, line("still there"), buffer);
                } catch (IOException e) {
                    stats.error(e);
                }
            }
        } finally {
            for (SSLSocket socket : held) socket.close();
        }
        return new Result(config, stats)
                .put("held", held.size())
                .put("open_s", openSeconds)
                .put("rss_idle_kb", idleKb)
                .put("rss_kb", heldKb)
                .put("rss_per_client_kb", (heldKb - idleKb) / (double) config.concurrency());
    }

    // ---- helpers ----

    /** The client's TLS settings: trust exactly the certificates in one file, check the host name on every socket. */
    static final class Client {
        private final Config config;
        private final TrustManagerFactory trust;

        Client(Config config) throws IOException, GeneralSecurityException {
            this.config = config;
            List<X509Certificate> certificates = new ArrayList<>();
            try (var in = Files.newInputStream(config.trust())) {
                for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    certificates.add((X509Certificate) cert);
                }
            }
            if (certificates.isEmpty()) throw new IOException("no certificate in " + config.trust());
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) store.setCertificateEntry("trusted-" + i, certificates.get(i));
            trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
        }

        /** A context with its own (empty) session cache. */
        SSLContext newContext() {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, trust.getTrustManagers(), null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("every JDK has a TLS context", e);
            }
        }

        /** Connects (with a timeout), handshakes, and verifies the certificate and that it names our host. */
        SSLSocket open(SSLContext context) throws IOException {
            Socket raw = new Socket();
            try {
                raw.setTcpNoDelay(true);
                raw.connect(new InetSocketAddress(config.host(), config.port()), config.timeoutMillis());
                raw.setSoTimeout(config.timeoutMillis());
                var socket = (SSLSocket) context.getSocketFactory().createSocket(raw, config.host(), config.port(), true);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setProtocols(config.tls().stream().map(v -> v.startsWith("TLS") ? v : "TLSv" + v).toArray(String[]::new));
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                return socket;
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        }
    }

    /** Drops every cached session of a client context, so the next handshake is a full one. */
    static void forgetSessions(SSLSessionContext cache) {
        for (byte[] id : Collections.list(cache.getIds())) {
            var session = cache.getSession(id);
            if (session != null) session.invalidate();
        }
    }

    /**
     * When the run starts measuring, and when it ends. With the server's pid it also takes the server's CPU time
     * over the window: CPU per operation stays meaningful on a busy machine, where throughput does not.
     */
    static final class Clock {
        final long start = System.nanoTime();
        final long measureFrom;
        final long end;
        private final Thread cpuSampler;
        private volatile Duration serverCpu;

        Clock(Config config) {
            measureFrom = start + (long) (config.warmupSeconds() * 1e9);
            end = measureFrom + (long) (config.durationSeconds() * 1e9);
            cpuSampler = new Thread(() -> serverCpu = cpuBetween(config.pid(), measureFrom, end), "server CPU sampler");
            cpuSampler.setDaemon(true);
            if (config.pid() > 0) cpuSampler.start();
        }

        /** Counts an operation that completed inside the measured window, with its whole latency. */
        void record(Stats stats, long opStart, long opEnd) {
            if (opEnd >= measureFrom && opEnd <= end) stats.latency.record(opEnd - opStart);
        }

        Result result(Config config, Stats stats) throws InterruptedException {
            long ops = stats.latency.count();
            var result = new Result(config, stats)
                    .put("ops", ops)
                    .put("ops_per_s", ops / config.durationSeconds())
                    .put("p50_ms", stats.latency.percentile(0.50) / 1e6)
                    .put("p99_ms", stats.latency.percentile(0.99) / 1e6);
            Duration cpu = serverCpu(config);
            if (cpu != null) {
                result.put("server_cpu_s", cpu.toNanos() / 1e9);
                if (ops > 0) result.put("server_cpu_us_per_op", cpu.toNanos() / 1e3 / ops);
            }
            return result;
        }

        /** The server's CPU time during the measured window, or null without a pid (or on a system that hides it). */
        Duration serverCpu(Config config) throws InterruptedException {
            if (config.pid() <= 0) return null;
            cpuSampler.join(Math.max(1, (end - System.nanoTime()) / 1_000_000) + 5_000);
            return serverCpu;
        }

        private static Duration cpuBetween(long pid, long from, long to) {
            try {
                sleepUntil(from);
                Duration before = cpuTime(pid);
                sleepUntil(to);
                Duration after = cpuTime(pid);
                return before == null || after == null ? null : after.minus(before);
            } catch (InterruptedException e) {
                return null;
            }
        }

        private static void sleepUntil(long nanoTime) throws InterruptedException {
            long millis = (nanoTime - System.nanoTime()) / 1_000_000;
            if (millis > 0) Thread.sleep(millis);
        }

        private static Duration cpuTime(long pid) {
            return ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration()).orElse(null);
        }
    }

    /** One worker's tallies; merged after the run, so workers never contend on shared counters. */
    static final class Stats {
        final Histogram latency = new Histogram();
        long errors, mismatches, resumed, verifiedBytes;
        String firstError = "", protocol = "", cipher = "";

        /** One echo: sends the message, reads back as many bytes, and counts them verified or mismatched. */
        void check(SSLSocket socket, byte[] message, byte[] buffer) throws IOException {
            note(socket);
            socket.getOutputStream().write(message);
            int got = socket.getInputStream().readNBytes(buffer, 0, message.length);
            if (got == message.length && Arrays.equals(buffer, 0, got, message, 0, got)) verifiedBytes += got;
            else if (got < message.length) throw new IOException("the server closed the connection mid-echo");
            else mismatches++;
        }

        void note(SSLSocket socket) {
            if (protocol.isEmpty()) {
                protocol = socket.getSession().getProtocol();
                cipher = socket.getSession().getCipherSuite();
            }
        }

        void error(Exception e) {
            if (errors++ == 0) firstError = e.getClass().getSimpleName() + ": " + e.getMessage();
        }

        static Stats merge(List<Stats> all) {
            var total = new Stats();
            for (Stats s : all) {
                total.latency.add(s.latency);
                total.errors += s.errors;
                total.mismatches += s.mismatches;
                total.resumed += s.resumed;
                total.verifiedBytes += s.verifiedBytes;
                if (total.firstError.isEmpty()) total.firstError = s.firstError;
                if (total.protocol.isEmpty()) {
                    total.protocol = s.protocol;
                    total.cipher = s.cipher;
                }
            }
            return total;
        }
    }

    /** Latencies in log-spaced buckets (64 per power of two, under 2% error): fixed memory whatever the run length. */
    static final class Histogram {
        private final long[] counts = new long[64 * 64];
        private long count;

        void record(long nanos) {
            counts[index(Math.max(1, nanos))]++;
            count++;
        }

        void add(Histogram other) {
            for (int i = 0; i < counts.length; i++) counts[i] += other.counts[i];
            count += other.count;
        }

        long count() { return count; }

        /** The latency in nanoseconds below which a fraction {@code q} of the operations fell (0 if none). */
        double percentile(double q) {
            long rank = Math.max(1, (long) Math.ceil(q * count)), seen = 0;
            for (int i = 0; i < counts.length && count > 0; i++) {
                seen += counts[i];
                if (seen >= rank) return middle(i);
            }
            return 0;
        }

        private static int index(long v) {
            int power = 63 - Long.numberOfLeadingZeros(v);
            if (power < 6) return (int) v;
            return (power - 5) * 64 + (int) ((v >>> (power - 6)) & 63);
        }

        private static double middle(int index) {
            if (index < 64) return index;
            int shift = index / 64 - 1;
            return ((64L + index % 64) << shift) + (1L << shift) / 2.0;
        }
    }

    /** The figures of one run, printed as {@code RESULT key=value ...}. */
    static final class Result {
        final Map<String, Object> fields = new LinkedHashMap<>();
        private final boolean ok;

        Result(Config config, Stats stats) {
            put("mode", config.mode()).put("server", config.label());
            put("protocol", stats.protocol).put("cipher", stats.cipher).put("concurrency", config.concurrency());
            put("errors", stats.errors).put("mismatches", stats.mismatches).put("resumed", stats.resumed);
            put("verified_bytes", stats.verifiedBytes);
            ok = stats.errors == 0 && stats.mismatches == 0 && stats.resumed == 0 && stats.verifiedBytes > 0;
            if (!stats.firstError.isEmpty()) put("first_error", "\"" + stats.firstError.replace('"', '\'') + "\"");
        }

        Result put(String key, Object value) {
            fields.put(key, value);
            return this;
        }

        /** A numeric field, or NaN when this run has none. */
        double number(String key) {
            return fields.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        boolean ok() { return ok; }

        String line() {
            var line = new StringBuilder("RESULT");
            fields.forEach((key, value) -> line.append(' ').append(key).append('=').append(value instanceof Double d
                    ? String.format(Locale.ROOT, d >= 100 ? "%.1f" : "%.3f", d) : value));
            return line.toString();
        }
    }

    /** A worker body: given its number, returns its tallies. */
    interface Worker {
        Stats run(int worker) throws Exception;
    }

    static List<Stats> runWorkers(int n, Worker body) throws InterruptedException {
        return runWorkers(n, body, () -> {});
    }

    /** Runs {@code n} workers on their own threads, with {@code whileRunning} on this one, and collects their tallies. */
    static List<Stats> runWorkers(int n, Worker body, InterruptibleTask whileRunning) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(n, task -> {
            Thread thread = new Thread(task, "bench worker");
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<Stats>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int worker = i;
                futures.add(pool.submit(() -> body.run(worker)));
            }
            whileRunning.run();
            List<Stats> all = new ArrayList<>();
            for (Future<Stats> future : futures) {
                try {
                    all.add(future.get(1, TimeUnit.HOURS));
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    var failed = new Stats();
                    failed.error(e.getCause() instanceof Exception cause ? cause : e);
                    all.add(failed);
                }
            }
            return all;
        } finally {
            pool.shutdownNow();
        }
    }

    interface InterruptibleTask {
        void run() throws InterruptedException;
    }

    /** A line of text ending in a newline, padded to 48 bytes so every echo moves the same amount. */
    static byte[] line(String text) {
        return String.format("%-47s\n", text).getBytes(StandardCharsets.US_ASCII);
    }

    /** Random bytes with a period of {@link #PERIOD}, a prime, so a dropped or repeated 16 KiB chunk never lines up. */
    static final int PERIOD = 1_048_573;

    static byte[] pattern() {
        byte[] pattern = new byte[PERIOD + CHUNK];
        new Random(7).nextBytes(pattern);
        System.arraycopy(pattern, 0, pattern, PERIOD, CHUNK);
        return pattern;
    }

    /** The resident set size of a process, from /proc/PID/status (Linux). */
    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IOException("no VmRSS line in /proc/" + pid + "/status");
    }
}
