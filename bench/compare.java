///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES bench.java
// bench.java has a main() too: name this one, so JBang never has to guess.
//MAIN compare

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The one benchmark command: our server and client against JSSE and Python references, alternating; medians. */
@Command(name = "compare", mixinStandardHelpOptions = true, version = "1.0", sortOptions = false,
        description = {
            "Makes a certificate with certgen.sh, starts server.java and the reference",
            "servers in bench/ on free loopback ports, measures each figure alternating",
            "ours and the reference (A B A B ...), and prints the medians, the ratios",
            "ours/reference and PASS/MISS per target of the server issue. The same for",
            "the client's warm runs, against a plain JSSE client and the Python one.",
            "Run it from the project folder: ./jbang bench/compare.java [--quick]", ""},
        footer = {"", "Exit status: 0 done (whatever the figures), 1 something broke (a server",
            "did not start, a run had errors or a wrong echo), 2 usage error."})
public class compare implements Callable<Integer> {
    static final Pattern BANNER = Pattern.compile("Listening on \\S+:(\\d+)");
    /** A row's target when the row has none (a detail under a figure). */
    static final double NONE = Double.NaN;

    @Option(names = "--quick", description = "about a second per figure, one repetition, fewer held clients: for CI")
    boolean quick;
    @Option(names = "--repetitions", description = "runs per figure and server (default: 3, or 1 with --quick)")
    Integer repetitions;
    @Option(names = "--aa",
            description = "A/A check: the JSSE reference in our server's place, to see the bench's own noise")
    boolean aa;

    public static void main(String... args) {
        System.exit(new CommandLine(new compare()).execute(args));
    }

    /** How long and how often; the full run is a few minutes on 2 cores. */
    record Plan(int repetitions, double seconds, double warmup, double settle, int heldClients) {}

    record Spec(String label, List<String> command) {}

    /** figure -> server -> one result per repetition */
    private final Map<String, Map<String, List<bench.Result>>> results = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private Path certs;

    @Override public Integer call() throws Exception {
        int reps = repetitions != null ? repetitions : quick ? 1 : 3;
        if (reps < 1 || reps > 20) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--repetitions must be 1 to 20");
        }
        Plan plan = quick ? new Plan(reps, 1, 0.5, 0.5, 100) : new Plan(reps, 5, 2, 2, 1000);
        Path root = findRoot();
        Path work = Files.createTempDirectory("tls-bench-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Running.stopAll();
            deleteTree(work);
        }));
        try {
            String loadBefore = loadAverage();
            certs = makeCertificate(root, work);
            Spec jsse = serverSpec("jsse", "./jbang", "bench/RefJsseServer.java");
            Spec ours = aa ? new Spec("ours", jsse.command())
                    : serverSpec("ours", "./jbang", "server.java", "--max-clients", "2000");
            Spec python = serverSpec("python", "python3", "bench/ref_python_server.py");
            // A phase that breaks (a server that does not start, say) is reported; the table shows what was measured.
            try {
                loadFigures(plan, root, ours, jsse, python);
            } catch (Exception e) {
                problems.add(String.valueOf(e.getMessage()));
            }
            try {
                startupFigures(plan, root, ours, jsse);
            } catch (Exception e) {
                problems.add(String.valueOf(e.getMessage()));
            }
            try {
                clientFigures(root, work, jsse);
            } catch (Exception e) {
                problems.add(String.valueOf(e.getMessage()));
            }
            printTable(plan, loadBefore);
        } finally {
            Running.stopAll();
            deleteTree(work);
        }
        problems.forEach(p -> System.out.println("PROBLEM: " + p));
        return problems.isEmpty() ? 0 : 1;
    }

    // ---- the runs ----

    /** Handshakes, echo and bulk against servers started once, alternating ours and the reference each repetition. */
    void loadFigures(Plan plan, Path root, Spec ours, Spec jsse, Spec python) throws Exception {
        // Started together (JBang may have to build them), then each awaited.
        Running[] started = {new Running(ours, root), new Running(jsse, root), startOptional(python, root)};
        try (Running a = started[0].awaitListening(180); Running b = started[1].awaitListening(180);
             Running p = awaitOptional(started[2])) {
            List<Running> handshakeServers = p == null ? List.of(a, b) : List.of(a, b, p);
            if (!quick) {
                // One unrecorded round first, so that the shared client is as warm for the first A as for the first B.
                System.out.println("--- warm-up round (not recorded)");
                Plan warmUp = new Plan(1, 1, 0.5, 0, 0);
                for (Running server : handshakeServers) bench.run(config(bench.Mode.handshake, server, 8, warmUp));
                for (Running server : List.of(a, b)) bench.run(config(bench.Mode.echo, server, 256, warmUp));
                for (Running server : List.of(a, b)) bench.run(config(bench.Mode.bulk, server, 1, warmUp));
            }
            for (int rep = 1; rep <= plan.repetitions(); rep++) {
                System.out.printf("--- repetition %d of %d%n", rep, plan.repetitions());
                for (Running server : handshakeServers) measure("handshake", server, bench.Mode.handshake, 8, plan);
                for (Running server : List.of(a, b)) measure("echo", server, bench.Mode.echo, 256, plan);
                for (Running server : List.of(a, b)) measure("bulk", server, bench.Mode.bulk, 1, plan);
            }
        }
    }

    /** Fresh processes (warm JBang cache): start to listening, to the first echo, RSS idle and holding idle clients. */
    void startupFigures(Plan plan, Path root, Spec ours, Spec jsse) throws Exception {
        // Two unmeasured starts each: JBang rebuilds a script that changed since the load phase, and the launcher
        // records and builds its class-data archive, and none of that is a warm start. (--quick skips this: in CI
        // nothing edits the scripts meanwhile.)
        for (Spec spec : quick ? List.<Spec>of() : List.of(ours, jsse, ours, jsse)) {
            Running.start(spec, root, 180).close();
            awaitArchiveBuilds();
        }
        for (int rep = 1; rep <= plan.repetitions(); rep++) {
            for (Spec spec : List.of(ours, jsse)) {
                try (Running server = Running.start(spec, root, 60)) {
                    var config = config(bench.Mode.hold, server, plan.heldClients(), plan);
                    var client = new bench.Client(config);
                    var stats = new bench.Stats();
                    try (SSLSocket socket = client.open(client.newContext())) {
                        stats.check(socket, bench.line("first"), new byte[64]);
                    }
                    if (stats.mismatches > 0) problems.add(spec.label() + " echoed the first line wrongly");
                    double firstEcho = (System.nanoTime() - server.startedNanos) / 1e9;
                    double firstEchoCpu = cpuSeconds(server.pid);
                    bench.Result result = bench.run(config).put("listening_s", server.listeningSeconds)
                            .put("first_echo_s", firstEcho).put("first_echo_cpu_s", firstEchoCpu);
                    record("startup", spec.label(), result);
                }
            }
        }
    }

    /** A client run's wall time from exec to exit, and the CPU time of its whole process tree. */
    record ClientRun(double wallSeconds, double cpuSeconds) {}

    /** client -> one run per round */
    private final Map<String, List<ClientRun>> clientRuns = new LinkedHashMap<>();

    /**
     * A student's every run: {@code ./jbang client.java localhost PORT --message hi --quiet} (JBang's cache warm,
     * the lab's certs/server.crt trusted by default), against the plain JSSE client compiled with the JDK's defaults
     * and the lecture's Python client, all verifying the same certificate and host name against the JSSE reference
     * server; alternated, after three unrecorded runs each (the launcher's archive is recorded, then built, by then).
     */
    void clientFigures(Path root, Path work, Spec server) throws Exception {
        Path classes = compileReferenceClient(root, work);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try (Running reference = Running.start(server, root, 60)) {
            String port = String.valueOf(reference.port);
            Map<String, List<String>> clients = new LinkedHashMap<>();
            clients.put("ours", List.of(root.resolve("jbang").toString(), root.resolve("client.java").toString(),
                    "localhost", port, "--message", "hi", "--quiet"));
            clients.put("jsse", List.of(java, "-cp", classes.toString(), "RefJsseClient", "localhost", port,
                    "certs/server.crt", "hi"));
            if (hasPython()) {
                clients.put("python", List.of("python3", root.resolve("tests/peers/lecture_client.py").toString(),
                        "localhost", port, "certs/server.crt", "hi"));
            } else {
                System.out.println("NOTE: no python3 here, so the Python client's rows are empty.");
            }
            for (int warmUp = 0; warmUp < 3; warmUp++) {
                for (var client : clients.entrySet()) runClient(work, client.getKey(), client.getValue(), false);
                awaitArchiveBuilds();
            }
            for (int round = 0; round < (quick ? 3 : 9); round++) {
                for (var client : clients.entrySet()) {
                    ClientRun run = runClient(work, client.getKey(), client.getValue(), true);
                    if (run == null) continue;
                    System.out.printf(Locale.ROOT, "CLIENT client=%s wall_s=%.3f cpu_s=%.3f%n", client.getKey(),
                            run.wallSeconds(), run.cpuSeconds());
                    clientRuns.computeIfAbsent(client.getKey(), c -> new ArrayList<>()).add(run);
                }
            }
        }
    }

    /**
     * One client run in {@code work} (where certs/ is), through bash, whose {@code times} gives the user and system CPU
     * of every process it waited for; null (with a problem noted) unless it echoed "hi" and printed nothing else
     * (JBang's "Building jar" lines are fine in a warm-up run: it is not {@code measured}).
     */
    ClientRun runClient(Path work, String label, List<String> command, boolean measured)
            throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of("bash", "-c", "\"$@\"; status=$?; times; exit $status", "bash"));
        line.addAll(command);
        Path stderr = work.resolve("client.err");
        var builder = new ProcessBuilder(line).directory(work.toFile()).redirectError(stderr.toFile());
        builder.environment().put("NO_COLOR", "1");
        long start = System.nanoTime();
        Process process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        double wall = (System.nanoTime() - start) / 1e9;
        if (!exited) process.destroyForcibly();
        List<String> lines = out.lines().toList();
        String errors = Files.readString(stderr);
        // The Python client prints the certificate too; ours (--quiet) and the reference print only the echo.
        String expected = label.equals("python") ? "Echo: hi" : "echo: hi";
        boolean echoed = label.equals("python") ? lines.contains(expected)
                : lines.size() == 3 && lines.get(0).equals(expected);
        if (!exited || process.exitValue() != 0 || !echoed || (measured && !errors.isEmpty())) {
            problems.add("the " + label + " client run failed (exit " + (exited ? process.exitValue() : "timeout")
                    + "): " + String.join(" | ", lines) + (errors.isEmpty() ? "" : " | stderr: " + errors.strip()));
            return null;
        }
        // times: the shell's own user and system time, then its children's, as "0m0.412s 0m0.056s".
        Matcher cpu = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s").matcher(lines.get(lines.size() - 1));
        if (!cpu.matches()) throw new IOException("no CPU times from bash's times: " + lines);
        double seconds = 60 * Double.parseDouble(cpu.group(1)) + Double.parseDouble(cpu.group(2))
                + 60 * Double.parseDouble(cpu.group(3)) + Double.parseDouble(cpu.group(4));
        return new ClientRun(wall, seconds);
    }

    static boolean hasPython() {
        try {
            return new ProcessBuilder("python3", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The reference client, compiled with the JDK's own compiler into the work folder. */
    static Path compileReferenceClient(Path root, Path work) throws IOException {
        Path classes = Files.createDirectories(work.resolve("ref-client"));
        var javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new IOException("this Java has no compiler (a JRE?): run the benchmark with a JDK");
        String source = root.resolve("bench/RefJsseClient.java").toString();
        int status = javac.run(null, null, null, "-d", classes.toString(), source);
        if (status != 0) throw new IOException("bench/RefJsseClient.java did not compile");
        return classes;
    }

    /**
     * The launcher builds a script's class-data archive in the background on the run after the one that recorded it;
     * a student's later runs find it made. Waits (at most a minute) until no build is under way, as that later run.
     */
    static void awaitArchiveBuilds() throws InterruptedException, IOException {
        String jbangDir = System.getenv().getOrDefault("JBANG_DIR", System.getProperty("user.home") + "/.jbang");
        Path archives = Path.of(jbangDir, "bootstrap", "archives");
        for (long end = System.nanoTime() + 60_000_000_000L; System.nanoTime() < end; Thread.sleep(200)) {
            if (!Files.isDirectory(archives)) return;
            // A build is named KEY.PID.build after its builder's pid; one whose builder died is no longer under way.
            try (Stream<Path> files = Files.walk(archives, 2)) {
                if (files.map(f -> f.getFileName().toString()).filter(name -> name.endsWith(".build"))
                        .map(name -> name.replaceAll(".*\\.(\\d+)\\.build$", "$1")).filter(pid -> pid.matches("\\d+"))
                        .noneMatch(pid -> ProcessHandle.of(Long.parseLong(pid)).isPresent())) return;
            }
        }
    }

    /** A live process's CPU time so far (user and system), from /proc through ProcessHandle. */
    static double cpuSeconds(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration()).map(d -> d.toNanos() / 1e9)
                .orElse(Double.NaN);
    }

    void measure(String figure, Running server, bench.Mode mode, int concurrency, Plan plan) throws Exception {
        record(figure, server.spec.label(), bench.run(config(mode, server, concurrency, plan)));
    }

    bench.Config config(bench.Mode mode, Running server, int concurrency, Plan plan) {
        double warmup = mode == bench.Mode.hold ? plan.settle() : plan.warmup();
        return new bench.Config(mode, "127.0.0.1", server.port, certs.resolve("server.crt"), concurrency,
                plan.seconds(), warmup, List.of("1.3"), server.pid, server.spec.label(), 10_000);
    }

    void record(String figure, String server, bench.Result result) {
        System.out.println(result.line());
        if (!result.ok()) problems.add(figure + " against " + server + " failed: " + result.line());
        results.computeIfAbsent(figure, f -> new LinkedHashMap<>())
                .computeIfAbsent(server, s -> new ArrayList<>()).add(result);
    }

    // ---- the table ----

    void printTable(Plan plan, String loadBefore) {
        System.out.println();
        System.out.printf("TLS echo benchmark, %s: %d repetition(s), %.0f s measured after %.1f s warm-up per run; "
                + "medians.%n", quick ? "--quick (CI smoke run: figures are rough)" : "full run", plan.repetitions(),
                plan.seconds(), plan.warmup());
        System.out.printf("Machine: %d CPUs, %s RAM, Java %s (%s); load average before %s, after %s.%n",
                Runtime.getRuntime().availableProcessors(), memory(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"), loadBefore, loadAverage());
        System.out.println("Client and servers share this machine; other load on it skews the figures "
                + "(alternation cancels drift;");
        System.out.println("server CPU per operation, from /proc, is the figure least affected by it).");
        if (aa) {
            System.out.println("A/A RUN: the 'ours' column is the JSSE reference again; ratios show the bench's own "
                    + "noise.");
        }
        String protocol = first("handshake", "ours", r -> r.fields.get("protocol") + " " + r.fields.get("cipher"));
        System.out.printf("Handshakes: %s, EC P-256 certificate, verified with host-name check, never resumed.%n%n",
                protocol);

        String format = "%-44s %11s %11s %9s %8s %s%n";
        System.out.printf(format, "Figure", "ours", "reference", "ratio", "target", "");
        row(format, "Handshakes/s, 8 connectors (vs JSSE)", "handshake", "jsse", "ops_per_s", "%.0f", 1.0, true);
        latencyRow(format, "  handshake p50 / p99 ms", "handshake", "jsse");
        row(format, "  server CPU us per handshake", "handshake", "jsse", "server_cpu_us_per_op", "%.0f", NONE, false);
        row(format, "Handshakes/s, 8 connectors (vs Python)", "handshake", "python", "ops_per_s", "%.0f", 3.0, true);
        row(format, "  server CPU us per handshake", "handshake", "python", "server_cpu_us_per_op", "%.0f", NONE,
                false);
        row(format, "Echo round trips/s, 256 clients", "echo", "jsse", "ops_per_s", "%.0f", 1.0, true);
        latencyRow(format, "  echo p50 / p99 ms", "echo", "jsse");
        row(format, "  server CPU us per round trip", "echo", "jsse", "server_cpu_us_per_op", "%.1f", NONE, false);
        row(format, "Bulk echo MB/s, 1 connection, 16 KiB writes", "bulk", "jsse", "mb_per_s", "%.1f", 0.9, true);
        row(format, "  server CPU ms per MB", "bulk", "jsse", "server_cpu_ms_per_mb", "%.2f", Double.NaN, false);
        row(format, "RSS MiB, " + plan.heldClients() + " idle clients", "startup", "jsse", "rss_kb", "%.1f", 1.2,
                false);
        row(format, "RSS MiB, idle (fresh, after one echo)", "startup", "jsse", "rss_idle_kb", "%.1f", NONE, false);
        absoluteRow(format, "Start to listening s (warm jbang cache)", "listening_s", 1.0);
        row(format, "Start to first echo s (both ./jbang)", "startup", "jsse", "first_echo_s", "%.2f", 1.2, false);
        row(format, "  server CPU s to first echo", "startup", "jsse", "first_echo_cpu_s", "%.2f", NONE, false);
        clientRow(format, "Client run s, warm (vs plain JSSE client)", "jsse", ClientRun::wallSeconds, 1.0);
        clientRow(format, "  client CPU s per run (user+sys)", "jsse", ClientRun::cpuSeconds, NONE);
        clientRow(format, "Client run s, warm (vs Python client)", "python", ClientRun::wallSeconds, NONE);
        clientRow(format, "  client CPU s per run (user+sys)", "python", ClientRun::cpuSeconds, NONE);

        long verified = all().mapToLong(r -> ((Number) r.fields.get("verified_bytes")).longValue()).sum();
        long mismatches = all().mapToLong(r -> ((Number) r.fields.get("mismatches")).longValue()).sum();
        long resumed = all().mapToLong(r -> ((Number) r.fields.get("resumed")).longValue()).sum();
        long errors = all().mapToLong(r -> ((Number) r.fields.get("errors")).longValue()).sum();
        System.out.printf("%nEcho check: %d bytes echoed and verified byte for byte in %d runs; %d mismatches, "
                + "%d resumed sessions, %d errors.%n",
                verified, all().count(), mismatches, resumed, errors);
    }

    /** A figure against a reference: PASS when ours/reference meets the target (at least, or at most, the ratio). */
    void row(String format, String name, String figure, String reference, String key, String numberFormat,
             double target, boolean higherIsBetter) {
        double scale = key.startsWith("rss") ? 1024 : 1;
        double ours = median(figure, "ours", key) / scale, ref = median(figure, reference, key) / scale;
        if (Double.isNaN(ref)) {
            System.out.printf(format, name, fmt(numberFormat, ours), "n/a", "", "",
                    "(" + reference + " reference not run)");
            return;
        }
        double ratio = ref > 0 ? ours / ref : Double.NaN;
        String targetText = Double.isNaN(target) ? ""
                : (higherIsBetter ? ">=" : "<=") + String.format(Locale.ROOT, "%.1fx", target);
        String verdict = Double.isNaN(target) ? "" : Double.isNaN(ratio) ? "n/a"
                : (higherIsBetter ? ratio >= target : ratio <= target) ? "PASS" : "MISS";
        System.out.printf(format, name, fmt(numberFormat, ours), fmt(numberFormat, ref) + " " + reference,
                fmt("%.2fx", ratio), targetText, verdict);
    }

    /** A client figure: medians over the rounds for ours and a reference client; PASS when ours/reference <= target. */
    void clientRow(String format, String name, String reference, java.util.function.ToDoubleFunction<ClientRun> what,
                   double target) {
        double ours = clientMedian("ours", what), ref = clientMedian(reference, what);
        if (Double.isNaN(ref)) {
            System.out.printf(format, name, fmt("%.2f", ours), "n/a", "", "", "(" + reference + " client not run)");
            return;
        }
        double ratio = ours / ref;
        String targetText = Double.isNaN(target) ? "" : String.format(Locale.ROOT, "<=%.1fx", target);
        String verdict = Double.isNaN(target) ? "" : Double.isNaN(ratio) ? "n/a" : ratio <= target ? "PASS" : "MISS";
        System.out.printf(format, name, fmt("%.2f", ours), fmt("%.2f", ref) + " " + reference, fmt("%.2fx", ratio),
                targetText, verdict);
    }

    double clientMedian(String client, java.util.function.ToDoubleFunction<ClientRun> what) {
        double[] values = clientRuns.getOrDefault(client, List.of()).stream().mapToDouble(what).sorted().toArray();
        if (values.length == 0) return Double.NaN;
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    void latencyRow(String format, String name, String figure, String reference) {
        System.out.printf(format, name, latency(figure, "ours"), latency(figure, reference), "", "", "");
    }

    /** A figure of our server alone, with an absolute target (the reference's value is shown for comparison). */
    void absoluteRow(String format, String name, String key, double maxSeconds) {
        double ours = median("startup", "ours", key), ref = median("startup", "jsse", key);
        String target = String.format(Locale.ROOT, "<%.0f s", maxSeconds);
        String verdict = Double.isNaN(ours) ? "n/a" : ours < maxSeconds ? "PASS" : "MISS";
        System.out.printf(format, name, fmt("%.2f", ours), fmt("%.2f", ref) + " jsse", "", target, verdict);
    }

    String latency(String figure, String server) {
        return fmt("%.1f", median(figure, server, "p50_ms")) + "/" + fmt("%.0f", median(figure, server, "p99_ms"));
    }

    double median(String figure, String server, String key) {
        List<bench.Result> runs = results.getOrDefault(figure, Map.of()).getOrDefault(server, List.of());
        double[] values = runs.stream().mapToDouble(r -> r.number(key)).filter(v -> !Double.isNaN(v)).sorted()
                .toArray();
        if (values.length == 0) return Double.NaN;
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    String first(String figure, String server, java.util.function.Function<bench.Result, String> what) {
        List<bench.Result> runs = results.getOrDefault(figure, Map.of()).getOrDefault(server, List.of());
        return runs.isEmpty() ? "?" : what.apply(runs.get(0));
    }

    Stream<bench.Result> all() {
        return results.values().stream().flatMap(m -> m.values().stream()).flatMap(List::stream);
    }

    static String fmt(String format, double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, format, value);
    }

    // ---- servers and set-up ----

    Spec serverSpec(String label, String... command) {
        List<String> line = new ArrayList<>(List.of(command));
        line.addAll(List.of("--port", "0", "--keystore", certs.resolve("server.p12").toString(),
                "--password-file", certs.resolve("server.pass").toString()));
        return new Spec(label, line);
    }

    /** The Python reference is optional: without python3 the table says so instead of failing. */
    Running startOptional(Spec spec, Path root) {
        try {
            return new Running(spec, root);
        } catch (IOException e) {
            System.out.println("NOTE: the Python reference did not start, so its row is empty: " + e.getMessage());
            return null;
        }
    }

    Running awaitOptional(Running server) {
        try {
            return server == null ? null : server.awaitListening(60);
        } catch (Exception e) {
            System.out.println("NOTE: the Python reference did not start, so its row is empty: " + e.getMessage());
            return null;
        }
    }

    /** A server process, its port read from the banner, its output drained (it logs each connection), kept in part. */
    static final class Running implements AutoCloseable {
        private static final Set<Running> RUNNING = ConcurrentHashMap.newKeySet();
        final Spec spec;
        final Process process;
        final long startedNanos = System.nanoTime();
        private final CompletableFuture<long[]> banner = new CompletableFuture<>();
        private final Deque<String> tail = new ArrayDeque<>();
        int port;
        long pid;
        double listeningSeconds;

        /** Starts the process; {@link #awaitListening} then waits for its banner. */
        Running(Spec spec, Path dir) throws IOException {
            this.spec = spec;
            var builder = new ProcessBuilder(spec.command()).directory(dir.toFile()).redirectErrorStream(true);
            builder.environment().put("NO_COLOR", "1");
            process = builder.start();
            RUNNING.add(this);
            Thread reader = new Thread(this::drain, "output of " + spec.label());
            reader.setDaemon(true);
            reader.start();
        }

        static Running start(Spec spec, Path dir, int timeoutSeconds) throws IOException, InterruptedException {
            return new Running(spec, dir).awaitListening(timeoutSeconds);
        }

        Running awaitListening(int timeoutSeconds) throws IOException, InterruptedException {
            try {
                long[] portAndTime = banner.get(timeoutSeconds, TimeUnit.SECONDS);
                port = (int) portAndTime[0];
                listeningSeconds = (portAndTime[1] - startedNanos) / 1e9;
            } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
                close();
                throw new IOException(spec.label() + " server printed no 'Listening on' line within " + timeoutSeconds
                        + " s; its output ended with:\n  " + String.join("\n  ", tail()));
            }
            // ./jbang and the python3 shim exec the runtime, so the process we started is the server itself.
            pid = process.pid();
            return this;
        }

        private void drain() {
            try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    Matcher m = banner.isDone() ? null : BANNER.matcher(line);
                    if (m != null && m.find()) {
                        banner.complete(new long[] {Integer.parseInt(m.group(1)), System.nanoTime()});
                    }
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > 20) tail.removeFirst();
                    }
                }
            } catch (IOException stopped) {
                // The process is gone; its last lines are in the tail.
            }
            banner.completeExceptionally(new IOException("output ended"));
        }

        List<String> tail() {
            synchronized (tail) {
                return new ArrayList<>(tail);
            }
        }

        @Override public void close() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            RUNNING.remove(this);
        }

        static void stopAll() {
            for (Running server : List.copyOf(RUNNING)) {
                try {
                    server.close();
                } catch (InterruptedException e) {
                    server.process.destroyForcibly();
                }
            }
        }
    }

    /** A fresh EC P-256 certificate in a private temporary folder, made by the project's certgen.sh. */
    static Path makeCertificate(Path root, Path work) throws IOException, InterruptedException {
        Path out = work.resolve("certs");
        Process certgen = new ProcessBuilder("bash", root.resolve("certgen.sh").toString(), "--out", out.toString())
                .directory(work.toFile()).redirectErrorStream(true).start();
        String output = new String(certgen.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!certgen.waitFor(60, TimeUnit.SECONDS) || certgen.exitValue() != 0) {
            throw new IOException("certgen.sh failed:\n" + output);
        }
        return out;
    }

    static Path findRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("jbang")) && Files.isRegularFile(dir.resolve("bench/bench.java"))) {
                return dir;
            }
        }
        throw new IllegalStateException("run this from the project folder: ./jbang bench/compare.java");
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
        }
    }

    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String memory() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return String.format(Locale.ROOT, "%.1f GiB", os.getTotalMemorySize() / (1024.0 * 1024 * 1024));
    }
}
