import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ./jbang launcher, black-box: real processes, as a student would run it. */
class LauncherTest {
    private static final Duration RUN = Duration.ofMinutes(2);
    private static final String PROBE = """
            ///usr/bin/env jbang "$0" "$@" ; exit $?
            /** Shows what reached it: its arguments, its stdin, whether it has a terminal; or exits with a status. */
            class probe {
                public static void main(String... args) throws Exception {
                    if (args.length == 2 && args[0].equals("--exit")) System.exit(Integer.parseInt(args[1]));
                    if (args.length == 1 && args[0].equals("--cat")) { System.in.transferTo(System.out); return; }
                    if (args.length == 1 && args[0].equals("--tty")) {
                        System.out.println("console: " + (System.console() != null));
                        return;
                    }
                    for (String arg : args) System.out.println("[" + arg + "]");
                }
            }
            """;

    /** The probe script, compiled once into the user's JBang cache by the first test that runs it. */
    @TempDir static Path scripts;

    @BeforeAll static void writeProbe() throws IOException {
        Files.writeString(scripts.resolve("probe.java"), PROBE);
    }

    @Test void versionIsPinned() {
        Lab.Result r = Lab.jbang(Lab.ROOT, RUN, "--version");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("0.132.1", r.all().strip(), r::toString);
    }

    @Test void argumentsReachTheScriptUntouched() {
        // The empty one too, which JBang 0.132.1 itself would drop: the launcher adds a script's arguments itself.
        List<String> args = List.of("two words", "", "it's", "say \"hi\"", "$HOME", "*", "back\\slash", "a;b|c&d",
                "$(touch injected)", "`id`", "--verbose", "-Dx=y", "tab\there");
        List<String> command = new ArrayList<>(List.of("probe.java"));
        command.addAll(args);
        Lab.Result r = Lab.jbang(scripts, RUN, command.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(args.stream().map(a -> "[" + a + "]").toList(), r.stdout().lines().toList(), r::toString);
        assertFalse(Files.exists(scripts.resolve("injected")), "an argument was run as a command");
    }

    @Test void exitStatusPassesThrough() {
        for (int status : new int[] {42, 3}) {
            Lab.Result r = Lab.jbang(scripts, RUN, "probe.java", "--exit", String.valueOf(status));
            assertEquals(status, r.exitCode(), r::toString);
        }
        Lab.Result missing = Lab.jbang(scripts, RUN, "no-such-script.java");
        assertNotEquals(0, missing.exitCode(), missing::toString);
        assertTrue(missing.stderr().contains("no-such-script.java"), missing::toString);
    }

    @Test void stdinPassesThrough() {
        String input = "first line\nsecond, with ✓ and \"quotes\"\n\nno newline at the end";
        Lab.Result r = Lab.run(scripts, RUN, Map.of(), Lab.withLauncher("probe.java", "--cat"),
                input.getBytes(StandardCharsets.UTF_8));
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(input, r.stdout());
    }

    @Test void aTerminalReachesTheScript() {
        Lab.Result which = Lab.run(scripts, RUN, Map.of(), List.of("bash", "-c", "command -v script"));
        Assumptions.assumeTrue(which.exitCode() == 0, "util-linux 'script' is not installed (CI installs it): skipped");
        // script(1) runs the launcher on a fresh pseudo-terminal, as in a student's terminal window.
        Lab.Result r = Lab.run(scripts, RUN, Map.of(), List.of("script", "-qec",
                "'" + Lab.ROOT.resolve("jbang") + "' probe.java --tty", "/dev/null"));
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.stdout().contains("console: true"), r::toString);
    }

    /** One fresh JBANG_DIR for the whole story: each first run costs a Maven start, slow on a shared machine. */
    @Test void twoFirstRunsAtOnceFillTheCacheAndLaterRunsNeedNoMaven(@TempDir Path jbangDir, @TempDir Path tools)
            throws Exception {
        // Two terminals in class, started at the same moment on an empty cache.
        Map<String, String> fresh = Map.of("JBANG_DIR", jbangDir.toString());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            var firstRuns = Stream.generate(() -> CompletableFuture.supplyAsync(
                    () -> Lab.run(scripts, RUN, fresh, Lab.withLauncher("--version")), pool)).limit(2).toList();
            for (var run : firstRuns) {
                Lab.Result first = run.join();
                assertEquals(0, first.exitCode(), first::toString);
                assertEquals("0.132.1", lastLine(first), first::toString);
                assertTrue(first.stderr().contains("fetching"), first::toString);
            }
        } finally {
            pool.shutdownNow();
        }
        assertNoLeftovers(jbangDir);

        // As with the network cut off: any Maven call fails, and leaves a mark.
        Path called = tools.resolve("mvn-was-called");
        Path offlineMaven = fakeCommand(tools.resolve("bin"), "mvn",
                "touch '" + called + "'; echo 'fake mvn: offline' >&2; exit 1");
        Map<String, String> offline = Map.of("JBANG_DIR", jbangDir.toString(),
                "PATH", offlineMaven.getParent() + File.pathSeparator + System.getenv("PATH"));
        Lab.Result second = Lab.run(scripts, RUN, offline, Lab.withLauncher("probe.java", "cached"));
        assertEquals(0, second.exitCode(), second::toString);
        assertEquals("[cached]", second.stdout().strip(), second::toString);
        assertFalse(second.stderr().contains("fetching"), second::toString);
        assertFalse(Files.exists(called), "a run with JBang cached called Maven:\n" + second);

        Map<String, String> noMaven = Map.of("JBANG_DIR", jbangDir.toString(), "PATH", Lab.pathWithout("mvn"));
        Lab.Result third = Lab.run(scripts, RUN, noMaven, Lab.withLauncher("--version"));
        assertEquals(0, third.exitCode(), third::toString);
        assertEquals("0.132.1", third.all().strip(), third::toString);
    }

    /**
     * A warm run of a script skips JBang and runs the built jar with the command JBang gave for it, for as long as no
     * file the script is built from has changed. Proof that JBang is skipped: it is broken in between, and the warm run
     * still works.
     */
    @Test void aWarmRunSkipsJbangUntilAFileTheScriptIsBuiltFromChanges(@TempDir Path jbangDir, @TempDir Path dir)
            throws Exception {
        Path jbangHome = jbangDir.resolve("bootstrap/jbang-0.132.1");
        Files.createDirectories(jbangHome.getParent());
        Path realJbang = Path.of(Objects.requireNonNullElse(System.getenv("JBANG_DIR"),
                System.getProperty("user.home") + "/.jbang"), "bootstrap/jbang-0.132.1");
        Assumptions.assumeTrue(Files.isDirectory(realJbang), "JBang was not bootstrapped by the launcher here");
        Files.createSymbolicLink(jbangHome, realJbang);
        Map<String, String> env = Map.of("JBANG_DIR", jbangDir.toString());
        Files.writeString(dir.resolve("greet.java"), """
                //SOURCES lib/Greeting.java
                class greet {
                    public static void main(String... args) {
                        System.out.println(Greeting.WORD + " " + java.util.Arrays.toString(args));
                    }
                }
                """);
        Files.createDirectories(dir.resolve("lib"));
        Files.writeString(dir.resolve("lib/Greeting.java"), "class Greeting { static final String WORD = \"hello\"; }");
        String[] run = {"greet.java", "two words", "", "it's"};

        assertGreets("hello [two words, , it's]", Lab.run(dir, RUN, env, Lab.withLauncher(run)));
        try (var kept = Files.list(jbangDir.resolve("bootstrap/launch"))) {
            assertEquals(1, kept.count(), "no launch command kept");
        }

        Files.delete(jbangHome);
        Files.createDirectories(jbangHome.resolve("lib"));
        Files.writeString(jbangHome.resolve("lib/jbang-cli-0.132.1.jar"), "not a jar");
        assertGreets("hello [two words, , it's]", Lab.run(dir, RUN, env, Lab.withLauncher(run)));
        Lab.Result broken = Lab.run(dir, RUN, env, Lab.withLauncher("--version"));
        assertNotEquals(0, broken.exitCode(), () -> "JBang was not broken after all:\n" + broken);

        deleteTree(jbangHome);
        Files.createSymbolicLink(jbangHome, realJbang);
        Files.writeString(dir.resolve("lib/Greeting.java"),
                "class Greeting { static final String WORD = \"bonjour\"; }");
        assertGreets("bonjour [two words, , it's]", Lab.run(dir, RUN, env, Lab.withLauncher(run)));
        Files.writeString(dir.resolve("greet.java"),
                Files.readString(dir.resolve("greet.java")).replace("\" \"", "\", \""));
        assertGreets("bonjour, [two words, , it's]", Lab.run(dir, RUN, env, Lab.withLauncher(run)));

        // JBang's own cache cleared (jbang cache clear): the kept command no longer runs, so JBang builds again.
        deleteTree(jbangDir.resolve("cache/jars"));
        assertGreets("bonjour, [two words, , it's]", Lab.run(dir, RUN, env, Lab.withLauncher(run)));
        Files.delete(jbangHome);   // the link only: the real JBang stays
        awaitNoBuild(jbangDir.resolve("bootstrap/archives"));   // a class-data archive may still be in the making
    }

    /** Prints its arguments, a line on stderr, and the class-data archive options its JVM was given. */
    private static final String HELLO = """
            class hello {
                public static void main(String... args) {
                    System.out.println("WORD " + String.join(" ", args));
                    System.err.println("a line on stderr");
                    var jvm = java.lang.management.ManagementFactory.getRuntimeMXBean();
                    String archiveOptions = "-XX:(SharedArchiveFile|AOTCache|DumpLoadedClassList|AOTConfiguration)=.*";
                    for (String option : jvm.getInputArguments()) {
                        if (option.matches(archiveOptions)) {
                            System.out.println("option " + option);
                        }
                    }
                }
            }
            """;

    /**
     * The launcher's class-data archive (CDS, or the AOT cache on JDK 25+): the first warm run records, the next builds
     * it in the background, later runs start from it; a changed script gets a new one and the old one goes; a truncated
     * or foreign archive, or a folder it cannot write, only costs speed. Through all of it the script's stdout and
     * stderr are its own: not a line from the JVM about archives.
     */
    @Test void aWarmRunStartsFromAClassDataArchiveMadeOnceAndRemadeWhenTheScriptChanges(@TempDir Path jbangDir,
            @TempDir Path dir) throws Exception {
        Map<String, String> env = borrowJbang(jbangDir);
        Path script = dir.resolve("hello.java");
        Files.writeString(script, HELLO.replace("WORD", "hello"));
        Path archives = jbangDir.resolve("bootstrap/archives");

        Lab.Result built = Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b"));   // JBang builds it
        assertHello("hello a b", built, true);
        String record = archiveOption(built, "DumpLoadedClassList", "AOTConfiguration");
        assertTrue(record.endsWith(".record"), built::toString);

        Lab.Result building = assertHello("hello a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")));
        assertEquals(List.of(), options(building), "a run while the record is built used an archive:\n" + building);
        Path archive = awaitArchive(archives);
        assertFalse(Files.exists(Path.of(record)), "the record was left after the build");

        for (int run = 0; run < 2; run++) {
            Lab.Result warm = assertHello("hello a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")));
            assertEquals(archive.toString(), archiveOption(warm, "SharedArchiveFile", "AOTCache"), warm::toString);
        }
        assertEquals(List.of(archive), archiveFiles(archives), "the same archive, made once, reused");
        assertArchiveFits(archive, built);

        // Cut short (the JVM would crash on it): not used, removed, recorded again.
        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-------"));
        byte[] whole = Files.readAllBytes(archive);
        Files.write(archive, java.util.Arrays.copyOf(whole, whole.length / 3));
        Lab.Result truncated = assertHello("hello a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")));
        assertTrue(archiveOption(truncated, "DumpLoadedClassList", "AOTConfiguration").endsWith(".record"),
                truncated::toString);
        assertFalse(Files.exists(archive), "a truncated archive was kept");
        // The same size, but not an archive at all: the JVM itself refuses it, silently.
        Files.write(archive, new byte[whole.length]);
        assertHello("hello a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")));
        Files.delete(archive);
        awaitNoBuild(archives);

        // An edited script: a new build, a new record and archive, and nothing of the old one left.
        Files.writeString(script, HELLO.replace("WORD", "bonjour"));
        for (int run = 0; run < 3; run++) {
            assertHello("bonjour a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")), run == 0);
        }
        Path remade = awaitArchive(archives);
        assertNotEquals(archive.getFileName(), remade.getFileName());
        Lab.Result warm = assertHello("bonjour a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")));
        assertEquals(remade.toString(), archiveOption(warm, "SharedArchiveFile", "AOTCache"), warm::toString);
        try (Stream<Path> all = Files.walk(archives)) {
            assertEquals(List.of(remade), all.filter(Files::isRegularFile).toList(), "the old build's files were left");
        }

        // No folder for archives can be made: the script runs as always, without one.
        deleteTree(archives);
        Files.writeString(archives, "not a folder");
        Lab.Result noFolder = assertHello("bonjour a b", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "a b")));
        assertEquals(List.of(), options(noFolder), noFolder::toString);
        Files.delete(archives);
        Files.delete(jbangDir.resolve("bootstrap/jbang-0.132.1"));   // the link only: the real JBang stays
    }

    /** The other JDK of the machine (JDK 17 and 25 on the project's): its runs get archives of their own. */
    @Test void eachJdkGetsItsOwnArchive(@TempDir Path jbangDir, @TempDir Path dir) throws Exception {
        Path other = otherJdk();
        Assumptions.assumeTrue(other != null, "only one JDK (17 or newer) on this machine: skipped");
        Map<String, String> env = new java.util.HashMap<>(borrowJbang(jbangDir));
        Files.writeString(dir.resolve("hello.java"), HELLO.replace("WORD", "hello"));
        Path archives = jbangDir.resolve("bootstrap/archives");
        for (Path jdk : List.of(Path.of(System.getProperty("java.home")), other)) {
            env.put("JAVA_HOME", jdk.toString());
            env.put("PATH", jdk.resolve("bin") + File.pathSeparator + System.getenv("PATH"));
            for (int run = 0; run < 2; run++) {
                assertHello("hello x", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "x")), true);
            }
            awaitNoBuild(archives);
            Lab.Result warm = assertHello("hello x", Lab.run(dir, RUN, env, Lab.withLauncher("hello.java", "x")));
            String archive = archiveOption(warm, "SharedArchiveFile", "AOTCache");
            assertTrue(archive.startsWith(archives.toString()), warm::toString);
        }
        try (var slots = Files.list(archives)) {
            assertEquals(2, slots.count(), "one slot per JDK");
        }
        assertEquals(2, archiveFiles(archives).size());
        Files.delete(jbangDir.resolve("bootstrap/jbang-0.132.1"));
    }

    /** Says which run it is on stdout and on stderr, so that each run's output can be told from the others'. */
    private static String whoAmI(String name) {
        return """
                class %s {
                    public static void main(String... args) {
                        System.out.println("%s ran as " + args[0]);
                        System.err.println("%s stderr of " + args[0]);
                    }
                }
                """.formatted(name, name, name);
    }

    /**
     * Four terminals start the same script at once on an empty JBang cache: JBang would build the same jar into the
     * same cache entry four times, and runs fail. With the launcher's per-script lock one run builds; the others wait
     * for it and run from the cache.
     */
    @Test void fourFirstRunsOfOneScriptAtOnceAllRunAndBuildItOnce(@TempDir Path jbangDir, @TempDir Path dir)
            throws Exception {
        Map<String, String> env = borrowJbang(jbangDir);
        Files.writeString(dir.resolve("tap.java"), whoAmI("tap"));
        List<Lab.Result> runs = startTogether(env, dir, List.of("tap.java", "1"), List.of("tap.java", "2"),
                List.of("tap.java", "3"), List.of("tap.java", "4"));
        int builds = 0;
        for (int i = 0; i < runs.size(); i++) {
            Lab.Result r = runs.get(i);
            String run = String.valueOf(i + 1);
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals("tap ran as " + run + "\n", r.stdout(), r::toString);
            assertEquals("tap stderr of " + run + "\n", launcherLinesRemoved(r.stderr()), r::toString);
            builds += (int) r.stderr().lines().filter(line -> line.startsWith("[jbang] Building jar for tap.java")).count();
        }
        assertEquals(1, builds, () -> "not one build:\n" + runs);
        try (var jars = Files.list(jbangDir.resolve("cache/jars"))) {
            assertEquals(1, jars.filter(p -> p.getFileName().toString().startsWith("tap.java")).count());
        }
        returnJbang(jbangDir);
    }

    /**
     * The lock is per script: while another run holds one script's lock, a first run of a different script builds and
     * runs at once, and a first run of the locked one says once what it waits for, then runs when the lock is free.
     */
    @Test void aHeldLockStopsOnlyItsOwnScriptAndTheWaitIsSaidOnce(@TempDir Path jbangDir, @TempDir Path dir)
            throws Exception {
        Map<String, String> env = borrowJbang(jbangDir);
        Files.writeString(dir.resolve("slow.java"), whoAmI("slow"));
        Files.writeString(dir.resolve("other.java"), whoAmI("other"));
        // The launcher's name for a script's lock: its real path, each character other than [A-Za-z0-9._-] as '_'.
        Path lock = jbangDir.resolve("bootstrap/locks/"
                + dir.toRealPath().resolve("slow.java").toString().replaceAll("[^A-Za-z0-9._-]", "_") + ".lock");
        Files.createDirectories(lock.getParent());
        try (var holder = new Lab.Background(dir, Map.of(), List.of("flock", lock.toString(), "sh", "-c",
                "echo held; exec sleep 300"))) {
            holder.await("^held$", Duration.ofSeconds(10));
            try (var waiting = new Lab.Background(dir, env, Lab.withLauncher("slow.java", "1"), false)) {
                waiting.await("^\\[jbang launcher\\] waiting for another run of slow\\.java to finish building it\\.\\.\\.$",
                        Duration.ofSeconds(30));

                Lab.Result other = Lab.run(dir, RUN, env, Lab.withLauncher("other.java", "2"));
                assertEquals(0, other.exitCode(), other::toString);
                assertEquals("other ran as 2\n", other.stdout(), other::toString);
                assertFalse(other.stderr().contains("[jbang launcher]"), other::toString);
                assertFalse(waiting.transcript().contains("slow ran"), "ran while the lock was held:\n" + waiting.transcript());

                holder.close();
                Lab.Result slow = waiting.finish(RUN);
                assertEquals(0, slow.exitCode(), slow::toString);
                assertEquals("slow ran as 1\n", slow.stdout(), slow::toString);
                assertEquals(1, slow.stderr().lines().filter(line -> line.startsWith("[jbang launcher] waiting")).count(),
                        slow::toString);
                assertEquals("slow stderr of 1\n", launcherLinesRemoved(slow.stderr()), slow::toString);
            }
        }
        returnJbang(jbangDir);
    }

    /** Two different scripts' first runs at once: neither waits for the other, and each prints only its own output. */
    @Test void firstRunsOfTwoScriptsAtOnceDoNotWaitForEachOther(@TempDir Path jbangDir, @TempDir Path dir)
            throws Exception {
        Map<String, String> env = borrowJbang(jbangDir);
        Files.writeString(dir.resolve("left.java"), whoAmI("left"));
        Files.writeString(dir.resolve("right.java"), whoAmI("right"));
        List<Lab.Result> runs = startTogether(env, dir, List.of("left.java", "L"), List.of("right.java", "R"));
        for (var expected : List.of(List.of("left", "L"), List.of("right", "R"))) {
            Lab.Result r = runs.get(expected.get(1).equals("L") ? 0 : 1);
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(expected.get(0) + " ran as " + expected.get(1) + "\n", r.stdout(), r::toString);
            assertEquals(expected.get(0) + " stderr of " + expected.get(1) + "\n", launcherLinesRemoved(r.stderr()),
                    r::toString);
            assertFalse(r.stderr().contains("[jbang launcher]"), r::toString);
            assertEquals(1, r.stderr().lines().filter(line -> line.startsWith("[jbang] Building jar")).count(),
                    r::toString);
        }
        returnJbang(jbangDir);
    }

    /** Once no class-data archive is in the making, removes the link {@link #borrowJbang} made (the real JBang stays). */
    private static void returnJbang(Path jbangDir) throws Exception {
        awaitNoBuild(jbangDir.resolve("bootstrap/archives"));
        Files.delete(jbangDir.resolve("bootstrap/jbang-0.132.1"));
    }

    /** Runs the launcher with each argument list at the same moment, and returns their results in that order. */
    @SafeVarargs
    private static List<Lab.Result> startTogether(Map<String, String> env, Path dir, List<String>... runs) {
        ExecutorService pool = Executors.newFixedThreadPool(runs.length);
        try {
            var started = Stream.of(runs).map(args -> CompletableFuture.supplyAsync(
                    () -> Lab.run(dir, RUN, env, Lab.withLauncher(args.toArray(String[]::new))), pool)).toList();
            return started.stream().map(CompletableFuture::join).toList();
        } finally {
            pool.shutdownNow();
        }
    }

    /** stderr without JBang's build notes and the launcher's waiting line: what the script itself printed. */
    private static String launcherLinesRemoved(String stderr) {
        return stderr.replaceAll("(?m)^\\[jbang( launcher)?\\] .*\n", "");
    }

    /** A private JBANG_DIR whose JBang is the one this machine's launcher fetched (no Maven run). */
    private static Map<String, String> borrowJbang(Path jbangDir) throws IOException {
        Path realJbang = Path.of(Objects.requireNonNullElse(System.getenv("JBANG_DIR"),
                System.getProperty("user.home") + "/.jbang"), "bootstrap/jbang-0.132.1");
        Assumptions.assumeTrue(Files.isDirectory(realJbang), "JBang was not bootstrapped by the launcher here");
        Files.createDirectories(jbangDir.resolve("bootstrap"));
        Files.createSymbolicLink(jbangDir.resolve("bootstrap/jbang-0.132.1"), realJbang);
        return Map.of("JBANG_DIR", jbangDir.toString());
    }

    /** A warm run of hello: exit 0, the greeting (then only option lines) on stdout, and stderr the script's own. */
    private static Lab.Result assertHello(String greeting, Lab.Result r) {
        return assertHello(greeting, r, false);
    }

    /** As {@link #assertHello(String, Lab.Result)}, where a run that JBang builds starts stderr with its own lines. */
    private static Lab.Result assertHello(String greeting, Lab.Result r, boolean jbangBuilds) {
        assertEquals(0, r.exitCode(), r::toString);
        List<String> out = r.stdout().lines().toList();
        assertEquals(greeting, out.isEmpty() ? "" : out.get(0), r::toString);
        assertTrue(out.stream().skip(1).allMatch(line -> line.startsWith("option ")), () -> "JVM output:\n" + r);
        String stderr = jbangBuilds ? r.stderr().replaceAll("(?m)^\\[jbang\\] .*\n", "") : r.stderr();
        assertEquals("a line on stderr\n", stderr, r::toString);
        return r;
    }

    private static List<String> options(Lab.Result r) {
        return r.stdout().lines().filter(line -> line.startsWith("option ")).toList();
    }

    /** The value of the one archive option among these names that the run was given. */
    private static String archiveOption(Lab.Result r, String... names) {
        List<String> values = options(r).stream().map(line -> line.substring("option -XX:".length()))
                .filter(option -> java.util.Arrays.stream(names).anyMatch(name -> option.startsWith(name + "=")))
                .map(option -> option.substring(option.indexOf('=') + 1)).toList();
        assertEquals(1, values.size(), () -> "not one of " + List.of(names) + ":\n" + r);
        return values.get(0);
    }

    private static List<Path> archiveFiles(Path archives) throws IOException {
        try (Stream<Path> all = Files.walk(archives)) {
            return all.filter(p -> p.toString().endsWith(".jsa") || p.toString().endsWith(".aot")).sorted().toList();
        }
    }

    /** The archive the background build makes (within a minute), once no build is under way. */
    private static Path awaitArchive(Path archives) throws Exception {
        awaitNoBuild(archives);
        List<Path> made = archiveFiles(archives);
        assertEquals(1, made.size(), () -> "not one archive: " + made);
        return made.get(0);
    }

    private static void awaitNoBuild(Path archives) throws Exception {
        long end = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        for (; System.nanoTime() < end; Thread.sleep(100)) {
            if (!Files.isDirectory(archives)) return;
            try (Stream<Path> all = Files.walk(archives)) {
                if (all.noneMatch(p -> p.toString().endsWith(".build"))) return;
            }
        }
        throw new AssertionError("the archive build did not end within a minute");
    }

    /** The JVM itself confirms the archive fits the kept command: with sharing required, it starts from it. */
    private static void assertArchiveFits(Path archive, Lab.Result built) throws IOException {
        Path jbangDir = archive.getParent().getParent().getParent().getParent();
        List<String> command;
        try (var kept = Files.list(jbangDir.resolve("bootstrap/launch"))) {
            command = List.of(Files.readString(kept.findFirst().orElseThrow()).strip().split(" "));
        }
        boolean aot = archive.toString().endsWith(".aot");
        List<String> check = new ArrayList<>(List.of(command.get(0)));
        check.addAll(aot ? List.of("-XX:AOTCache=" + archive, "-XX:AOTMode=on")
                : List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:on"));
        check.addAll(command.subList(1, command.size()));
        Lab.Result r = Lab.run(archive.getParent(), RUN, Map.of(), check);
        assertEquals(0, r.exitCode(), () -> "the JVM refuses the archive:\n" + r);
    }

    /** A JDK 17 or newer under /usr/lib/jvm of another major version than the one running the tests, or null. */
    private static Path otherJdk() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) return null;
        int ours = Runtime.version().feature();
        try (var homes = Files.list(jvms)) {
            for (Path home : homes.map(LauncherTest::realPath).distinct().sorted().toList()) {
                Path release = home.resolve("release");
                if (!Files.isExecutable(home.resolve("bin/java")) || !Files.isRegularFile(release)) continue;
                Matcher version = Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(release));
                int major = version.find() ? Integer.parseInt(version.group(1)) : 0;
                if (major >= 17 && major != ours) return home;
            }
        }
        return null;
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    private static void assertGreets(String expected, Lab.Result r) {
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(expected, r.stdout().strip(), r::toString);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test void withoutJavaSaysHowToGetIt(@TempDir Path jbangDir) throws IOException {
        Map<String, String> env = Map.of("PATH", Lab.pathWithout("java"), "JAVA_HOME", "",
                "JBANG_DIR", jbangDir.toString());
        Lab.Result r = Lab.run(scripts, RUN, env, Lab.withLauncher("--version"));
        assertOneLineError(r, "java", "JAVA_HOME");
    }

    @Test void withJavaOlderThan17SaysSo(@TempDir Path jbangDir, @TempDir Path tools) throws IOException {
        Path java11 = fakeCommand(tools, "java", "echo 'openjdk version \"11.0.22\" 2024-01-16' >&2");
        Map<String, String> env = Map.of("PATH", java11.getParent() + File.pathSeparator + System.getenv("PATH"),
                "JAVA_HOME", "", "JBANG_DIR", jbangDir.toString());
        Lab.Result r = Lab.run(scripts, RUN, env, Lab.withLauncher("--version"));
        assertOneLineError(r, "17", "11.0.22");
    }

    @Test void withNeitherJbangNorMavenSaysHowToInstallJbang(@TempDir Path jbangDir) throws IOException {
        Map<String, String> env = Map.of("PATH", Lab.pathWithout("mvn", "jbang"), "JBANG_DIR", jbangDir.toString());
        Lab.Result r = Lab.run(scripts, RUN, env, Lab.withLauncher("--version"));
        assertOneLineError(r, "JBang", "jbang.dev");
        assertNoLeftovers(jbangDir);
    }

    @Test void aFailedDownloadNamesTheArtifactAndTheMirrorAndLeavesNoCache(@TempDir Path jbangDir, @TempDir Path tools)
            throws IOException {
        Path offlineMaven = fakeCommand(tools, "mvn", "echo '[ERROR] Could not transfer artifact (offline)'; exit 1");
        Map<String, String> env = Map.of("PATH", offlineMaven.getParent() + File.pathSeparator + System.getenv("PATH"),
                "JBANG_DIR", jbangDir.toString());
        Lab.Result r = Lab.run(scripts, RUN, env, Lab.withLauncher("--version"));
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(r.stderr().contains("dev.jbang:jbang-cli:0.132.1") && r.stderr().contains("mirror"), r::toString);
        assertFalse(Files.exists(jbangDir.resolve("bootstrap/jbang-0.132.1")), "a failed download left a cache");
        assertNoLeftovers(jbangDir);
    }

    /** JBang prints its version on stderr, after any line of the launcher's. */
    private static String lastLine(Lab.Result r) {
        return r.all().strip().lines().reduce((first, last) -> last).orElse("");
    }

    /** An executable shell script standing in for a real command. */
    private static Path fakeCommand(Path dir, String name, String body) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private static void assertOneLineError(Lab.Result r, String... mentions) {
        assertNotEquals(0, r.exitCode(), r::toString);
        assertEquals("", r.stdout(), r::toString);
        assertEquals(1, r.stderr().lines().count(), () -> "not a one-line error:\n" + r);
        for (String mention : mentions) {
            assertTrue(r.stderr().contains(mention), () -> "no '" + mention + "' in:\n" + r);
        }
    }

    /** No temporary download folders (".download.*") left in the bootstrap cache. */
    private static void assertNoLeftovers(Path jbangDir) throws IOException {
        Path cache = jbangDir.resolve("bootstrap");
        if (!Files.isDirectory(cache)) return;
        try (var entries = Files.list(cache)) {
            assertEquals(List.of(), entries.filter(p -> p.getFileName().toString().startsWith(".")).toList());
        }
    }
}
