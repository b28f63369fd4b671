import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test support: the project's folder, and real processes (the launcher, certgen.sh, the scripts) run as a user would. */
final class Lab {
    /** The project root: the nearest folder upwards from the working directory that holds the launcher and certgen.sh. */
    static final Path ROOT = findRoot();

    private Lab() {}

    /** What a finished run left behind (a process, or a command run in this JVM): its exit code, stdout, stderr. */
    record Result(int exitCode, String stdout, String stderr) {
        String all() { return stdout + stderr; }

        /** The bytes stdout carried (decoding and encoding valid UTF-8 gives them back exactly). */
        byte[] stdoutBytes() { return stdout.getBytes(StandardCharsets.UTF_8); }

        @Override public String toString() {
            return "exit " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    /** Runs a command to completion in {@code dir}, with stdin closed, and fails the test if it outlives {@code timeout}. */
    static Result run(Path dir, Duration timeout, Map<String, String> env, List<String> command) {
        return run(dir, timeout, env, command, null);
    }

    /** As {@link #run(Path, Duration, Map, List)}, feeding {@code stdin} (if not null) to the process and then closing it. */
    static Result run(Path dir, Duration timeout, Map<String, String> env, List<String> command, byte[] stdin) {
        Background process;
        try {
            process = new Background(dir, env, command, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (var in = process.process.getOutputStream()) {
            if (stdin != null) in.write(stdin);
        } catch (IOException exitedEarly) {
            // The process may exit before reading all its input; its exit code and output tell the story.
        }
        return process.finish(timeout);   // what it started in the background, if anything, runs on
    }

    /** Runs the project's {@code ./jbang} launcher with these arguments in {@code dir}. */
    static Result jbang(Path dir, Duration timeout, String... args) {
        return run(dir, timeout, Map.of(), withLauncher(args));
    }

    /** Runs {@code certgen.sh} from the project with these arguments, in {@code dir}. */
    static Result certgen(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of("bash", ROOT.resolve("certgen.sh").toString()));
        command.addAll(List.of(args));
        return run(dir, Duration.ofSeconds(60), Map.of(), command);
    }

    /** Makes a certificate set with certgen.sh into {@code dir}/certs (or fails the test), and returns that folder. */
    static Path certs(Path dir, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("--out", dir.resolve("certs").toString()));
        args.addAll(List.of(extraArgs));
        Result result = certgen(dir, args.toArray(String[]::new));
        if (result.exitCode() != 0) throw new AssertionError("certgen.sh failed:\n" + result);
        return dir.resolve("certs");
    }

    /**
     * A PATH like the current one but without the {@code missing} commands (e.g. "java", "mvn"), so a test can run a
     * process as on a machine that lacks them: a folder of symlinks to every other command, made once per JVM
     * (outside test @TempDirs, whose clean-up warns about each link) and removed when the JVM exits.
     */
    static synchronized String pathWithout(String... missing) throws IOException {
        String key = String.join(" ", new TreeSet<>(List.of(missing)));
        String cached = PATHS.get(key);
        if (cached != null) return cached;
        Path dir = Files.createTempDirectory("lab-path-");
        for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (entry.isEmpty() || !Files.isDirectory(Path.of(entry))) continue;
            try (var commands = Files.list(Path.of(entry))) {
                for (Path command : (Iterable<Path>) commands::iterator) {
                    Path link = dir.resolve(command.getFileName().toString());
                    if (!List.of(missing).contains(command.getFileName().toString()) && Files.isExecutable(command)
                            && !Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, command.toAbsolutePath());
                    }
                }
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (var links = Files.list(dir)) {
                for (Path link : (Iterable<Path>) links::iterator) Files.deleteIfExists(link);
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // Only symlinks in the system's temporary folder are left behind.
            }
        }));
        PATHS.put(key, dir.toString());
        return dir.toString();
    }

    private static final Map<String, String> PATHS = new HashMap<>();

    static List<String> withLauncher(String... args) {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("jbang").toString()));
        command.addAll(List.of(args));
        return command;
    }

    static Process start(Path dir, Map<String, String> env, List<String> command) throws IOException {
        return builder(dir, env, command).start();
    }

    private static ProcessBuilder builder(Path dir, Map<String, String> env, List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().put("NO_COLOR", "1");
        builder.environment().putAll(env);
        return builder;
    }

    /**
     * Output as it comes, line by line, from a process or from a writer (an in-process server's log): the tests' one
     * way to wait for output. {@link #await} reads on from the line after its last match, so successive awaits follow
     * the order of the output; {@link #awaitAnywhere} looks at every line so far, for lines that come in any order.
     */
    static final class Lines {
        private final List<String> lines = new ArrayList<>();
        private final StringBuilder text = new StringBuilder(), partial = new StringBuilder();
        private int next;   // where the next await starts
        private int sources;   // writers of this output still open
        private final String source;

        Lines(String source, int sources) {
            this.source = source;
            this.sources = sources;
        }

        synchronized void append(CharSequence chunk) {
            text.append(chunk);
            for (int i = 0; i < chunk.length(); i++) {
                char c = chunk.charAt(i);
                if (c != '\n') {
                    partial.append(c);
                    continue;
                }
                int end = partial.length() > 0 && partial.charAt(partial.length() - 1) == '\r' ? partial.length() - 1
                        : partial.length();
                lines.add(partial.substring(0, end));
                partial.setLength(0);
            }
            notifyAll();
        }

        /** One source has ended; when all have, a wait ends at once instead of at its deadline. */
        synchronized void ended() {
            if (partial.length() > 0) append("\n");
            sources--;
            notifyAll();
        }

        /** Waits for a line after the last one {@code await} matched; fails the test with the output if none comes. */
        Matcher await(String regex, Duration timeout) throws InterruptedException {
            return found(regex, timeout, find(regex, timeout, true));
        }

        /** Waits for a line matching regex anywhere in the output, and returns the output so far. */
        String awaitAnywhere(String regex, Duration timeout) throws InterruptedException {
            found(regex, timeout, find(regex, timeout, false));
            return toString();
        }

        /** The match, or null when the output ended or the time ran out first. */
        synchronized Matcher find(String regex, Duration timeout, boolean onwards) throws InterruptedException {
            Pattern pattern = Pattern.compile(regex);
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = onwards ? next : 0; ; ) {
                for (; i < lines.size(); i++) {
                    Matcher m = pattern.matcher(lines.get(i));
                    if (m.find()) {
                        if (onwards) next = i + 1;
                        return m;
                    }
                }
                long left = deadline - System.nanoTime();
                if (sources == 0 || left <= 0) return null;
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        private Matcher found(String regex, Duration timeout, Matcher match) {
            if (match != null) return match;
            throw new AssertionError("no line matching /" + regex + "/ within " + timeout + " from " + source
                    + "; output:\n" + this);
        }

        /** A writer that appends here (an in-process server's log). */
        PrintWriter writer() {
            return new PrintWriter(new Writer() {
                @Override public void write(char[] chars, int offset, int length) {
                    Lines.this.append(new String(chars, offset, length));
                }

                @Override public void flush() {}

                @Override public void close() {}
            }, true);
        }

        /** Everything so far. */
        @Override public synchronized String toString() { return text.toString(); }
    }

    /**
     * The tests' one process runner: a process started in dir (with NO_COLOR), its output read as it comes (so a test
     * can wait for a line) and kept (for the {@link Result} when it ends), killed with its children on close. A
     * long-running one (a server) shows stdout and stderr merged, as a terminal does; {@link #run} keeps them apart.
     */
    static final class Background implements AutoCloseable {
        final Process process;
        private final Lines output;
        private final StringBuffer stdout = new StringBuffer(), stderr = new StringBuffer();
        private final List<Thread> readers = new ArrayList<>();
        private final List<String> command;

        Background(Path dir, Map<String, String> env, List<String> command) throws IOException {
            this(dir, env, command, true);
        }

        Background(Path dir, Map<String, String> env, List<String> command, boolean merged) throws IOException {
            this.command = command;
            process = builder(dir, env, command).redirectErrorStream(merged).start();
            output = new Lines(command.get(0), merged ? 1 : 2);
            readers.add(reader(process.getInputStream(), stdout));
            if (!merged) readers.add(reader(process.getErrorStream(), stderr));
        }

        private Thread reader(InputStream from, StringBuffer into) {
            Thread reader = new Thread(() -> {
                char[] buffer = new char[8192];
                try (var in = new InputStreamReader(from, StandardCharsets.UTF_8)) {
                    for (int n; (n = in.read(buffer)) != -1; ) {
                        into.append(buffer, 0, n);
                        output.append(new String(buffer, 0, n));
                    }
                } catch (IOException ignored) {
                    // The process was killed; what it printed is kept.
                } finally {
                    output.ended();
                }
            }, "output of " + command.get(0));
            reader.setDaemon(true);
            reader.start();
            return reader;
        }

        /** Waits for a line matching {@code regex} and returns its match; fails the test with the transcript if none comes. */
        Matcher await(String regex, Duration timeout) throws InterruptedException {
            return output.await(regex, timeout);
        }

        /** As {@link Lines#find}: the next matching line, or null if the output ends or the time runs out first. */
        Matcher find(String regex, Duration timeout) throws InterruptedException {
            return output.find(regex, timeout, true);
        }

        /** Waits for a line matching regex anywhere in the output; returns the transcript. */
        String awaitAnywhere(String regex, Duration timeout) throws InterruptedException {
            return output.awaitAnywhere(regex, timeout);
        }

        /** Everything the process printed so far (stdout and stderr together). */
        String transcript() { return output.toString(); }

        /** Waits for the end (killing it, and failing the test, after {@code timeout}) and returns what it left. */
        Result finish(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    close();
                    throw new AssertionError("timed out after " + timeout + ": " + command
                            + "\n--- stdout so far:\n" + stdout + "\n--- stderr so far:\n" + stderr);
                }
                for (Thread reader : readers) reader.join(10_000);
                if (readers.stream().anyMatch(Thread::isAlive)) {
                    throw new AssertionError("output still open 10 s after the exit of " + command);
                }
                return new Result(process.exitValue(), stdout.toString(), stderr.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override public void close() {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Path findRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("jbang")) && Files.isDirectory(dir.resolve("tests"))) return dir;
        }
        throw new IllegalStateException("run the tests from inside the project folder (no ./jbang launcher found upwards)");
    }
}
