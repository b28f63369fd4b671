import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.execution.StreamingExecutionControl;
import jdk.jshell.execution.Util;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * Tested documentation: reads the fenced code blocks of a Markdown file (the convention is written at the top of
 * workbook.md), and runs them as a reader would: console commands with bash, long-running commands "in another
 * terminal", and JShell snippets in a JShell whose working directory is the project copy.
 */
final class Snippets {
    private Snippets() {}

    /** One fenced block: the line of its opening fence, the heading it is under, its info string and its lines. */
    record Fence(int line, String heading, String language, Map<String, String> marks, List<String> body) {
        boolean has(String mark) { return marks.containsKey(mark); }

        String mark(String mark) { return marks.get(mark); }
    }

    /** A "$ " command of a console fence, the exit status it must end with, and the output shown under it. */
    record Command(int line, String text, int exit, List<String> expected) {}

    private static final Pattern FENCE = Pattern.compile("^(\\s*)(`{3,})\\s*(.*)$");
    private static final Pattern EXIT = Pattern.compile("#\\s*exit\\s+(\\d+)\\s*$");

    /** Every fence of the file in document order, skipping HTML comments (where the authors' note lives). */
    static List<Fence> parse(Path markdown) throws IOException {
        List<String> lines = Files.readAllLines(markdown, StandardCharsets.UTF_8);
        List<Fence> fences = new ArrayList<>();
        String heading = "(top)";
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.strip().startsWith("<!--")) {
                while (i < lines.size() && !lines.get(i).contains("-->")) i++;
                continue;
            }
            if (line.startsWith("#")) heading = line.replaceFirst("^#+\\s*", "");
            Matcher open = FENCE.matcher(line);
            if (!open.matches()) continue;
            String indent = open.group(1), ticks = open.group(2);
            List<String> body = new ArrayList<>();
            int start = i + 1;
            for (i++; i < lines.size() && !lines.get(i).strip().matches("`{" + ticks.length() + ",}"); i++) {
                String bodyLine = lines.get(i);
                body.add(bodyLine.startsWith(indent) ? bodyLine.substring(indent.length()) : bodyLine.stripLeading());
            }
            if (i == lines.size()) throw new IllegalArgumentException("line " + start + ": fence never closed");
            fences.add(fence(start, heading, open.group(3).strip(), body));
        }
        return fences;
    }

    /** Info string: the language first, then marks: {@code jshell}, {@code should-fail}, {@code key=value}, {@code no-run: reason}. */
    private static Fence fence(int line, String heading, String info, List<String> body) {
        Map<String, String> marks = new LinkedHashMap<>();
        int noRun = info.indexOf("no-run");
        if (noRun >= 0) {
            marks.put("no-run", info.substring(noRun + "no-run".length()).replaceFirst("^:", "").strip());
            info = info.substring(0, noRun).strip();
        }
        String[] words = info.isEmpty() ? new String[] {""} : info.split("\\s+");
        for (int w = 1; w < words.length; w++) {
            String[] keyValue = words[w].split("=", 2);
            marks.put(keyValue[0], keyValue.length == 2 ? keyValue[1] : "");
        }
        return new Fence(line, heading, words[0], marks, List.copyOf(body));
    }

    /** The commands of a console fence: "$ " lines (a trailing backslash continues one), each followed by its output. */
    static List<Command> commands(Fence fence) {
        List<Command> commands = new ArrayList<>();
        List<String> body = fence.body();
        for (int i = 0; i < body.size(); ) {
            if (!body.get(i).startsWith("$ ")) {
                throw new IllegalArgumentException("line " + (fence.line() + 1 + i) + ": output before the first '$ ' command");
            }
            int line = fence.line() + 1 + i;
            StringBuilder text = new StringBuilder(body.get(i).substring(2));
            while (text.toString().endsWith("\\") && ++i < body.size()) text.append('\n').append(body.get(i));
            List<String> expected = new ArrayList<>();
            for (i++; i < body.size() && !body.get(i).startsWith("$ "); i++) expected.add(body.get(i));
            Matcher exit = EXIT.matcher(text);
            commands.add(new Command(line, text.toString(), exit.find() ? Integer.parseInt(exit.group(1)) : 0, expected));
        }
        return commands;
    }

    // ---- Matching output: "..." on a line of its own is any lines (or none), inside a line any text. ----

    /** What a reader compares: lines without trailing blanks, without JBang's own "[jbang] ..." build notes, trimmed. */
    static List<String> normalize(String text) {
        List<String> lines = text.lines().map(String::stripTrailing)
                .filter(l -> !l.startsWith("[jbang] ")).collect(Collectors.toCollection(ArrayList::new));
        while (!lines.isEmpty() && lines.get(0).isEmpty()) lines.remove(0);
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
        return lines;
    }

    static boolean matches(List<String> expected, List<String> actual) {
        List<String> want = normalize(String.join("\n", expected));
        return matches(want, 0, actual, 0, new HashMap<>());
    }

    private static boolean matches(List<String> want, int w, List<String> got, int g, Map<Long, Boolean> memo) {
        long key = ((long) w << 32) | g;
        Boolean known = memo.get(key);
        if (known != null) return known;
        boolean result;
        if (w == want.size()) result = g == got.size();
        else if (want.get(w).strip().equals("...")) {
            result = false;
            for (int skip = g; skip <= got.size() && !result; skip++) result = matches(want, w + 1, got, skip, memo);
        } else {
            result = g < got.size() && lineMatches(want.get(w), got.get(g)) && matches(want, w + 1, got, g + 1, memo);
        }
        memo.put(key, result);
        return result;
    }

    static boolean lineMatches(String want, String got) {
        if (!want.contains("...")) return want.equals(got);
        String regex = Pattern.compile("\\.\\.\\.").splitAsStream(want + "\0")
                .map(part -> Pattern.quote(part.replace("\0", ""))).collect(Collectors.joining(".*"));
        return got.matches(regex);
    }

    static String explain(List<String> expected, String actual) {
        return "expected (\"...\" = anything):\n  " + String.join("\n  ", normalize(String.join("\n", expected)))
                + "\nbut the output was:\n  " + String.join("\n  ", normalize(actual));
    }

    // ---- Running commands as a reader types them, in the project copy. ----

    record Ran(int exit, String output) {}

    /** Runs one command line with bash in {@code dir}, stdin empty, stdout and stderr together as a terminal shows them. */
    static Ran bash(Path dir, String command, Duration timeout) throws IOException, InterruptedException {
        Path transcript = Files.createTempFile("workbook-command-", ".out");
        try {
            Process process = builder(dir, command, transcript).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                throw new AssertionError("still running after " + timeout + ": " + command + "\noutput so far:\n" + Files.readString(transcript));
            }
            return new Ran(process.exitValue(), Files.readString(transcript, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(transcript);
        }
    }

    /**
     * Output goes to a file, not a pipe: when a process exits, the JDK drains and closes its pipe stream under a reading
     * thread, which can lose the last lines (a server's summary printed as it stops).
     */
    private static final Path FRESH_HOME = freshHome();

    private static Path freshHome() {
        try {
            return Files.createTempDirectory("workbook-home");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ProcessBuilder builder(Path dir, String command, Path transcript) {
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(transcript.toFile());
        // Colours would only be noise.
        builder.environment().put("NO_COLOR", "1");
        // A fresh home too (the client keeps the certificates a reader trusted in ~/.tls-echo-lab), but JBang's cache
        // stays the developer's, so the scripts are not fetched and built again.
        Map<String, String> env = builder.environment();
        Path realHome = Path.of(env.getOrDefault("HOME", System.getProperty("user.home")));
        env.putIfAbsent("JBANG_DIR", realHome.resolve(".jbang").toString());
        env.put("HOME", FRESH_HOME.toString());
        return builder;
    }

    /** A command started "in another terminal": its output is collected as it comes; stop() is the reader's Ctrl-C. */
    static final class Terminal implements AutoCloseable {
        private final Process process;
        private final Path transcript;

        Terminal(Path dir, String command) throws IOException {
            transcript = Files.createTempFile("workbook-terminal-", ".out");
            // exec: the shell becomes the command, so the signal reaches the program itself (./jbang execs java too).
            process = builder(dir, "exec " + command, transcript).start();
        }

        String output() {
            try {
                return Files.readString(transcript, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Waits until the output so far starts with {@code expected} (its stable parts); fails with the output if not. */
        void awaitStart(List<String> expected, Duration timeout) throws InterruptedException {
            List<String> prefix = new ArrayList<>(expected);
            prefix.add("...");
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean started = false;
            while (System.nanoTime() < deadline) {
                boolean exited = !process.isAlive();
                if (!started && !normalize(output()).isEmpty()) {
                    // The first line is out (JBang compiled it, the JVM runs): the rest of a banner follows within seconds.
                    started = true;
                    deadline = Math.min(deadline, System.nanoTime() + Duration.ofSeconds(20).toNanos());
                }
                if (matches(prefix, normalize(output()))) return;
                if (exited) {
                    throw new AssertionError("it exited with status " + process.exitValue() + " instead\n" + explain(expected, output()));
                }
                Thread.sleep(100);
            }
            throw new AssertionError("its start-up output did not appear within " + timeout + "\n" + explain(expected, output()));
        }

        /** SIGTERM, which the lab's programs treat like Ctrl-C; returns everything the program printed. */
        String stop() throws InterruptedException {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            String text = output();
            close();
            return text;
        }

        @Override public void close() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
                Files.deleteIfExists(transcript);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // A leftover temp file is harmless.
            }
        }
    }

    // ---- Edits: a "diff edit=FILE" fence is a change the reader makes to FILE, hunk by hunk. ----

    /**
     * Applies the fence's hunks to {@code file}: lines starting with ' ' are context, '-' removed, '+' added (an empty
     * line is an empty context line); "@@" lines separate hunks, and "--- "/"+++ " lines before the first hunk are
     * headers. Each hunk's old lines must appear exactly once, after the previous hunk, as the reader would find them.
     */
    static void applyEdit(Path file, List<String> diff) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        List<List<String>> hunks = new ArrayList<>();
        for (String line : diff) {
            if (line.startsWith("@@")) hunks.add(new ArrayList<>());
            else if (hunks.isEmpty() && (line.startsWith("--- ") || line.startsWith("+++ "))) continue;
            else if (hunks.isEmpty()) throw new AssertionError("a diff fence starts with an @@ line: " + line);
            else hunks.get(hunks.size() - 1).add(line);
        }
        int from = 0;
        for (List<String> hunk : hunks) {
            List<String> before = new ArrayList<>(), after = new ArrayList<>();
            for (String line : hunk) {
                char kind = line.isEmpty() ? ' ' : line.charAt(0);
                String text = line.isEmpty() ? "" : line.substring(1);
                if (kind != '+' && kind != ' ' && kind != '-') throw new AssertionError("not a diff line: " + line);
                if (kind != '+') before.add(text);
                if (kind != '-') after.add(text);
            }
            int at = indexOf(lines, before, from);
            if (at < 0) throw new AssertionError("this hunk's lines are not in " + file.getFileName() + ":\n  "
                    + String.join("\n  ", before));
            if (indexOf(lines, before, at + 1) >= 0) throw new AssertionError("this hunk matches twice in " + file.getFileName()
                    + ": give it more context:\n  " + String.join("\n  ", before));
            for (int i = 0; i < before.size(); i++) lines.remove(at);
            lines.addAll(at, after);
            from = at + after.size();
        }
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }

    private static int indexOf(List<String> lines, List<String> part, int from) {
        for (int i = Math.max(0, from); i + part.size() <= lines.size(); i++) {
            if (lines.subList(i, i + part.size()).equals(part)) return i;
        }
        return -1;
    }

    /**
     * Runs a command at a pseudo-terminal, as a reader types it: util-linux script(1) gives it a tty, and each time the
     * output ends in a prompt ("... [y/N]" or "> "), the next of {@code answers} is typed (the terminal echoes it).
     */
    static Ran atTerminal(Path dir, String command, List<String> answers, Duration timeout)
            throws IOException, InterruptedException {
        Path transcript = Files.createTempFile("workbook-tty-", ".out");
        try {
            Process process = builder(dir, "script -qefc " + shellQuote(command) + " /dev/null", transcript).start();
            long deadline = System.nanoTime() + timeout.toNanos();
            int typed = 0, seenAtLastAnswer = -1;
            while (process.isAlive() && System.nanoTime() < deadline) {
                String output = Files.readString(transcript, StandardCharsets.UTF_8);
                boolean prompt = output.endsWith("] ") || output.endsWith("> ");
                if (typed < answers.size() && prompt && output.length() != seenAtLastAnswer) {
                    process.getOutputStream().write((answers.get(typed++) + "\n").getBytes(StandardCharsets.UTF_8));
                    process.getOutputStream().flush();
                    seenAtLastAnswer = output.length();
                }
                Thread.sleep(50);
            }
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
                throw new AssertionError("still running after " + timeout + " at a terminal: " + command
                        + "\noutput so far:\n" + Files.readString(transcript));
            }
            return new Ran(process.exitValue(), Files.readString(transcript, StandardCharsets.UTF_8).replace("\r", ""));
        } finally {
            Files.deleteIfExists(transcript);
        }
    }

    private static String shellQuote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    // ---- JShell: a separate JVM started in the project copy, like `jshell` typed in the project folder. ----

    /** The imports the jshell tool makes at start (its DEFAULT startup); the API starts with none. */
    private static final List<String> JSHELL_DEFAULT_IMPORTS = List.of("java.io", "java.math", "java.net",
            "java.nio.file", "java.util", "java.util.concurrent", "java.util.function", "java.util.prefs",
            "java.util.regex", "java.util.stream");

    /** One JShell state for the whole document, as one jshell window kept open from the first step to the last. */
    static final class Shell implements AutoCloseable {
        private final JShell shell;
        private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
        private final ExecutorService evaluator = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "workbook jshell");
            thread.setDaemon(true);
            return thread;
        });

        Shell(Path workingDirectory) {
            PrintStream sink = new PrintStream(printed, true, StandardCharsets.UTF_8);
            shell = JShell.builder().executionEngine(new InDirectory(workingDirectory), Map.of()).out(sink).err(sink).build();
            for (String pkg : JSHELL_DEFAULT_IMPORTS) shell.eval("import " + pkg + ".*;");
        }

        /** The outcome of a fence: what it printed (as the jshell tool shows it) and the failure, if a snippet failed. */
        record Outcome(String output, String failure, boolean failedOnLast, String echoes) {}

        /** Evaluates the fence snippet by snippet, stopping at the first one that is rejected or throws. */
        Outcome run(String code, Duration timeout) throws Exception {
            List<String> sources = split(code);
            StringBuilder shown = new StringBuilder(), echoes = new StringBuilder();
            for (int i = 0; i < sources.size(); i++) {
                String source = sources.get(i);
                Future<List<SnippetEvent>> events = evaluator.submit(() -> shell.eval(source));
                List<SnippetEvent> result;
                try {
                    result = events.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    close();
                    throw new AssertionError("snippet still running after " + timeout + ":\n" + source);
                }
                shown.append(takePrinted());
                for (SnippetEvent event : result) {
                    if (event.value() != null && event.causeSnippet() == null) echoes.append(echo(event)).append('\n');
                }
                String failure = failure(result);
                if (failure != null) {
                    return new Outcome(shown.append(failure).toString(), "snippet " + source + "\n" + failure,
                            i == sources.size() - 1, echoes.toString());
                }
            }
            return new Outcome(shown.toString(), null, false, echoes.toString());
        }

        private String takePrinted() {
            synchronized (printed) {
                String text = printed.toString(StandardCharsets.UTF_8);
                printed.reset();
                return text;
            }
        }

        /** What the jshell tool echoes for a snippet with a value: {@code name ==> value}. */
        private static String echo(SnippetEvent event) {
            String name = event.snippet() instanceof jdk.jshell.VarSnippet variable ? variable.name()
                    : event.snippet() instanceof jdk.jshell.ExpressionSnippet expression ? expression.name() : "$";
            return name + " ==> " + event.value();
        }

        /** The jshell tool's report of a rejected or throwing snippet, or null when it worked. */
        private String failure(List<SnippetEvent> events) {
            for (SnippetEvent event : events) {
                if (event.causeSnippet() != null) continue;
                if (event.exception() != null) return describe(event.exception());
                Snippet.Status status = event.status();
                if (status == Snippet.Status.REJECTED || status == Snippet.Status.RECOVERABLE_NOT_DEFINED
                        || status == Snippet.Status.RECOVERABLE_DEFINED) {
                    String errors = shell.diagnostics(event.snippet())
                            .map(d -> "|  Error:\n|  " + d.getMessage(Locale.ROOT).replace("\n", "\n|  "))
                            .collect(Collectors.joining("\n"));
                    if (errors.isEmpty() && event.snippet() instanceof DeclarationSnippet declaration) {
                        errors = "|  Error: it uses " + shell.unresolvedDependencies(declaration).toList() + ", not declared yet";
                    }
                    return (errors.isEmpty() ? "|  Error: " + status : errors) + "\n";
                }
            }
            return null;
        }

        private static String describe(Throwable thrown) {
            String type = thrown instanceof EvalException e ? e.getExceptionClassName() : thrown.getClass().getName();
            StringBuilder text = new StringBuilder("|  Exception " + type + (thrown.getMessage() == null ? "" : ": " + thrown.getMessage()) + "\n");
            for (StackTraceElement frame : thrown.getStackTrace()) {
                String cls = frame.getClassName().substring(frame.getClassName().lastIndexOf('.') + 1);
                text.append("|        at ").append(cls).append('.').append(frame.getMethodName())
                        .append(" (").append(frame.getFileName()).append(':').append(frame.getLineNumber()).append(")\n");
            }
            return text.toString();
        }

        /** Splits a fence into complete snippets, as jshell does with pasted text. */
        private List<String> split(String code) {
            List<String> sources = new ArrayList<>();
            SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
            for (String rest = code; !rest.isBlank(); ) {
                SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
                if (!info.completeness().isComplete()) throw new AssertionError("incomplete snippet at the end of the fence:\n" + rest);
                if (info.completeness() != SourceCodeAnalysis.Completeness.EMPTY) sources.add(info.source());
                rest = info.remaining();
            }
            return sources;
        }

        @Override public void close() {
            shell.close();
            evaluator.shutdownNow();
        }
    }

    /**
     * JShell's remote agent ({@code jdk.jshell.execution.RemoteExecutionControl}) started as its own JVM in a chosen
     * folder, so relative paths in snippets resolve as in a jshell started there. The default engine would inherit
     * the test JVM's folder; the local engine would share the test JVM.
     */
    private record InDirectory(Path directory) implements ExecutionControlProvider {
        @Override public String name() { return "workbook"; }

        @Override public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) throws Throwable {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                listener.setSoTimeout(60_000);
                List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
                command.addAll(env.extraRemoteVMOptions());
                command.addAll(List.of("-m", "jdk.jshell/jdk.jshell.execution.RemoteExecutionControl",
                        String.valueOf(listener.getLocalPort())));
                Process agent = new ProcessBuilder(command).directory(directory.toFile())
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                Socket socket = listener.accept();
                Map<String, OutputStream> outputs = Map.of("out", env.userOut(), "err", env.userErr());
                Map<String, InputStream> inputs = Map.of("in", env.userIn());
                return Util.remoteInputOutput(socket.getInputStream(), socket.getOutputStream(), outputs, inputs,
                        (in, out) -> new StreamingExecutionControl(out, in) {
                            @Override public void close() {
                                super.close();
                                agent.destroyForcibly();
                            }
                        });
            }
        }
    }
}
