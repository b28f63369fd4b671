import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Runs workbook.md as a student follows it, one test per code fence in document order (the fence conventions are in
 * tests/README.md): in a copy of the project's files, with the real ./jbang launcher and caches.
 */
class WorkbookTest {
    private static final Path WORKBOOK = Lab.ROOT.resolve("workbook.md");
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration SNIPPET_TIMEOUT = Duration.ofSeconds(60);
    private static final Set<String> MARKS = Set.of("jshell", "should-fail", "output", "background", "stop", "from", "no-run",
            "edit", "tty");

    private static Path copy;
    private static FileLock lock;
    private static Snippets.Shell shell;
    private static Snippets.Shell.Outcome lastSnippets;
    private static final Map<String, Snippets.Terminal> terminals = new LinkedHashMap<>();

    @TestFactory Stream<DynamicTest> workbook() throws Exception {
        List<Snippets.Fence> fences = Snippets.parse(WORKBOOK);
        assertTrue(fences.size() > 10, "workbook.md has hardly any fences: " + fences.size());
        lock = exclusive();
        copy = copyOfProject();
        List<DynamicTest> tests = new ArrayList<>();
        for (Snippets.Fence fence : fences) {
            Executable check = checkFor(fence);
            if (check != null) tests.add(DynamicTest.dynamicTest("L" + fence.line() + " " + kind(fence) + " | " + fence.heading(), check));
        }
        return tests.stream();
    }

    @AfterAll static void cleanUp() throws IOException {
        terminals.values().forEach(Snippets.Terminal::close);
        if (shell != null) shell.close();
        if (copy != null) {
            try (Stream<Path> files = Files.walk(copy)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        if (lock != null) lock.channel().close();
    }

    private static String kind(Snippets.Fence fence) {
        if (fence.has("no-run")) return fence.language() + " no-run";
        if (fence.has("background")) return "console background=" + fence.mark("background");
        if (fence.has("stop")) return "console stop=" + fence.mark("stop");
        if (fence.has("from")) return "quote from " + fence.mark("from");
        if (fence.has("edit")) return "edit of " + fence.mark("edit");
        if (fence.has("tty")) return "console at a terminal";
        if (fence.has("jshell")) return fence.has("should-fail") ? "jshell should-fail" : "jshell";
        return fence.has("output") ? "jshell output" : fence.language();
    }

    /** What checking this fence means, or null for display-only fences (text, mermaid, python, ...). */
    private static Executable checkFor(Snippets.Fence fence) {
        for (String mark : fence.marks().keySet()) {
            if (!MARKS.contains(mark)) return () -> fail("unknown mark '" + mark + "' in the info string; known: " + MARKS);
        }
        if (fence.has("no-run")) {
            String reason = fence.mark("no-run");
            if (reason.isEmpty()) return () -> fail("write why next to no-run, e.g. 'no-run: needs a terminal'");
            return () -> abort("not run: " + reason);
        }
        if (fence.has("background")) return () -> startInAnotherTerminal(fence);
        if (fence.has("stop")) return () -> stopTerminal(fence);
        if (fence.has("from")) return () -> quotedVerbatim(fence);
        if (fence.has("edit")) return () -> Snippets.applyEdit(copy.resolve(fence.mark("edit")), fence.body());
        if (fence.has("jshell")) return () -> jshell(fence);
        if (fence.has("output")) return () -> snippetOutput(fence);
        return switch (fence.language()) {
            case "console" -> () -> console(fence);
            case "java", "jshell", "sh", "bash", "shell" -> () -> fail("a " + fence.language()
                    + " fence must say how it is checked: console, java jshell, java from=FILE or '<language> no-run: reason'");
            default -> null;
        };
    }

    private static void console(Snippets.Fence fence) throws Exception {
        List<Snippets.Command> commands = Snippets.commands(fence);
        assertTrue(!commands.isEmpty(), "a console fence without a '$ ' command");
        for (Snippets.Command command : commands) {
            Snippets.Ran ran = fence.has("tty")
                    ? Snippets.atTerminal(copy, command.text(), List.of(fence.mark("tty").split(",")), COMMAND_TIMEOUT)
                    : Snippets.bash(copy, command.text(), COMMAND_TIMEOUT);
            String where = "line " + command.line() + ": $ " + command.text() + "\n";
            assertEquals(command.exit(), ran.exit(), () -> where + "exit status (mark an expected failure with '# exit N')\n"
                    + "output:\n" + ran.output());
            if (!Snippets.matches(command.expected(), Snippets.normalize(ran.output()))) {
                fail(where + Snippets.explain(command.expected(), ran.output()));
            }
        }
    }

    private static void startInAnotherTerminal(Snippets.Fence fence) throws Exception {
        List<Snippets.Command> commands = Snippets.commands(fence);
        assertEquals(1, commands.size(), "a background fence holds exactly one '$ ' command");
        String name = fence.mark("background");
        assertTrue(!terminals.containsKey(name), "terminal '" + name + "' is still running: stop it first (console stop=" + name + ")");
        Snippets.Terminal terminal = new Snippets.Terminal(copy, commands.get(0).text());
        terminals.put(name, terminal);
        terminal.awaitStart(commands.get(0).expected(), COMMAND_TIMEOUT);
    }

    /** The fence is the terminal's whole transcript; "^C" marks where the reader presses Ctrl-C. */
    private static void stopTerminal(Snippets.Fence fence) throws Exception {
        Snippets.Terminal terminal = terminals.remove(fence.mark("stop"));
        assertNotNull(terminal, "no terminal named '" + fence.mark("stop") + "' is running (console background=NAME starts one)");
        String transcript = terminal.stop();
        List<String> expected = fence.body().stream().filter(line -> !line.strip().equals("^C")).toList();
        if (!Snippets.matches(expected, Snippets.normalize(transcript))) fail(Snippets.explain(expected, transcript));
    }

    private static void jshell(Snippets.Fence fence) throws Exception {
        if (shell == null) shell = new Snippets.Shell(copy);
        lastSnippets = shell.run(String.join("\n", fence.body()), SNIPPET_TIMEOUT);
        assertNoSecretIn(lastSnippets.echoes());
        if (fence.has("should-fail")) {
            assertTrue(lastSnippets.failure() != null, "marked should-fail, but every snippet worked; output:\n" + lastSnippets.output());
            assertTrue(lastSnippets.failedOnLast(), "only the last snippet of a should-fail fence may fail:\n" + lastSnippets.failure());
        } else if (lastSnippets.failure() != null) {
            fail(lastSnippets.failure());
        }
    }

    /** The reader's jshell echoes every value it makes: the keystore's password must never be one of them. */
    private static void assertNoSecretIn(String echoes) throws IOException {
        Path passwordFile = copy.resolve("certs/server.pass");
        if (!Files.exists(passwordFile)) return;
        String password = Files.readString(passwordFile).strip();
        String squashed = echoes.replaceAll("[\\s',{}]", "");   // char[48] { '4', 'b', ... } shows it too
        if (echoes.contains(password) || squashed.contains(password)) {
            fail("jshell would show the keystore password on the reader's screen:\n" + echoes);
        }
    }

    private static void snippetOutput(Snippets.Fence fence) {
        assertNotNull(lastSnippets, "an output fence must follow a 'java jshell' fence");
        Snippets.Shell.Outcome outcome = lastSnippets;
        lastSnippets = null;
        if (!Snippets.matches(fence.body(), Snippets.normalize(outcome.output()))) fail(Snippets.explain(fence.body(), outcome.output()));
    }

    /** A quote of the real code must still be in that file: same lines in order (indentation aside); "// ..." skips lines. */
    private static void quotedVerbatim(Snippets.Fence fence) throws IOException {
        Path file = Lab.ROOT.resolve(fence.mark("from"));
        List<String> source = Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip).toList();
        List<String> quote = fence.body().stream().map(String::strip).map(line -> line.equals("// ...") ? "..." : line).toList();
        List<String> pattern = new ArrayList<>(List.of("..."));
        pattern.addAll(quote);
        pattern.add("...");
        if (!Snippets.matches(pattern, source)) fail("this quote is no longer in " + fence.mark("from") + " as written:\n  " + String.join("\n  ", quote));
    }

    /** Two checkers at once would fight over the workbook's fixed ports: the second waits for the first. */
    private static FileLock exclusive() throws IOException, InterruptedException {
        Path file = Path.of(System.getProperty("java.io.tmpdir"), "tls-echo-lab-workbook.lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        for (int waited = 0; waited < 600; waited++) {
            FileLock taken = channel.tryLock();
            if (taken != null) return taken;
            if (waited == 0) System.out.println("WorkbookTest: another workbook check is running; waiting for it to finish");
            Thread.sleep(1000);
        }
        channel.close();
        throw new AssertionError("another workbook check held " + file + " for 10 minutes");
    }

    /** A fresh clone's files: tracked and not-ignored ones from the work tree (so certs/ is not there), in a temp folder. */
    private static Path copyOfProject() throws IOException, InterruptedException {
        Path target = Files.createTempDirectory("workbook-");
        Snippets.Ran listed = Snippets.bash(Lab.ROOT, "git ls-files -z --cached --others --exclude-standard", Duration.ofSeconds(30));
        assertEquals(0, listed.exit(), listed::output);
        for (String name : listed.output().split("\0")) {
            Path from = Lab.ROOT.resolve(name);
            if (name.isEmpty() || !Files.isRegularFile(from)) continue;
            Path to = target.resolve(name);
            try {
                Files.createDirectories(to.getParent());
                Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
            } catch (IOException e) {
                throw new UncheckedIOException("copying " + name, e);
            }
        }
        return target;
    }
}
