import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test support: the project's folder, and real processes (the launcher, certgen.sh, the scripts) run as a user would. */
final class Lab {
    /** The project root: the nearest folder upwards from the working directory that holds the launcher and certgen.sh. */
    static final Path ROOT = findRoot();

    private Lab() {}

    /** What a finished process left behind. */
    record Result(int exitCode, String stdout, String stderr) {
        String all() { return stdout + stderr; }

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
        try {
            Process process = start(dir, env, command);
            CompletableFuture<String> out = readAll(process.getInputStream());
            CompletableFuture<String> err = readAll(process.getErrorStream());
            try (var in = process.getOutputStream()) {
                if (stdin != null) in.write(stdin);
            } catch (IOException exitedEarly) {
                // The process may exit before reading all its input; its exit code and output tell the story.
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new AssertionError("timed out after " + timeout + ": " + command
                        + "\n--- stdout so far:\n" + out.getNow("") + "\n--- stderr so far:\n" + err.getNow(""));
            }
            return new Result(process.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            if (e instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e);
        }
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
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().put("NO_COLOR", "1");
        builder.environment().putAll(env);
        return builder.start();
    }

    /**
     * A long-running process (a server) whose output is read line by line as it comes, so a test can wait for a
     * banner line, and which is killed with its children on close.
     */
    static final class Background implements AutoCloseable {
        final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final StringBuffer transcript = new StringBuffer();

        Background(Path dir, Map<String, String> env, List<String> command) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
            builder.environment().put("NO_COLOR", "1");
            builder.environment().putAll(env);
            process = builder.start();
            Thread reader = new Thread(() -> {
                try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        transcript.append(line).append('\n');
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // The process was killed; what it printed is in the transcript.
                }
            }, "output of " + command.get(0));
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits for a line matching {@code regex} and returns its match; fails the test with the transcript if none comes. */
        Matcher await(String regex, Duration timeout) throws InterruptedException {
            Pattern pattern = Pattern.compile(regex);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                String line = lines.poll(50, TimeUnit.MILLISECONDS);
                if (line == null) {
                    if (!process.isAlive() && lines.isEmpty()) break;
                    continue;
                }
                Matcher m = pattern.matcher(line);
                if (m.find()) return m;
            }
            throw new AssertionError("no line matching /" + regex + "/ within " + timeout
                    + (process.isAlive() ? "" : " (process exited with " + process.exitValue() + ")")
                    + "; output:\n" + transcript);
        }

        /** Everything the process printed so far (stdout and stderr together). */
        String transcript() { return transcript.toString(); }

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

    /** Own threads, not the common pool: on 2 cores that has one thread, and stdout and stderr must drain at once. */
    private static final ExecutorService READERS = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "process output reader");
        thread.setDaemon(true);
        return thread;
    });

    private static CompletableFuture<String> readAll(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, READERS);
    }

    private static Path findRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("jbang")) && Files.isDirectory(dir.resolve("tests"))) return dir;
        }
        throw new IllegalStateException("run the tests from inside the project folder (no ./jbang launcher found upwards)");
    }
}
