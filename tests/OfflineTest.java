import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lab machines without internet (LAB-IMAGE.md). The caches are filled once, online, by lecturer/prefill.sh, as on the
 * machine that builds the lab image; each user then gets a copy, the filled folder itself is deleted, and every
 * program the README and the workbook start through JBang, and the exported jars on JDK 17 and 25, must work with
 * the network really gone: each such command runs in a network namespace that has only loopback, with neither Maven
 * nor an installed JBang on PATH, and with this machine's own JBang and Maven caches hidden under empty folders.
 */
class OfflineTest {
    private static final Duration RUN = Duration.ofMinutes(2);
    /** The lab's programs whose first run builds them, which is what the caches must allow without a network. */
    private static final Set<String> RUN_OFFLINE_HERE = Set.of("server.java", "client.java",
            "examples/PlainEchoServer.java", "examples/PlainEchoClient.java", "examples/TlsEchoServer.java",
            "examples/TlsEchoClient.java", "examples/Wiretap.java", "work/TlsEchoServer.java", "lecturer/LabCheck.java");
    /** LAB-IMAGE.md's check that a machine is ready for a lab without network, word for word. */
    private static final String READY_CHECK = "for s in server.java client.java examples/*.java; do"
            + " ./jbang --offline build \"$s\" || echo \"NOT READY: $s\"; done";

    @TempDir static Path tmp;
    /** The project as copied onto the lab image, with the dist/ jars the fill made. */
    static Path project;
    /** A student's home, holding a copy of the filled folder (LAB-IMAGE.md's first way). */
    static Path alice;
    /** A copy of the filled folder elsewhere, named by JBANG_DIR and JBANG_REPO (the guide's second way). */
    static Path bobCache;
    /** A process that keeps the offline namespaces alive; every offline command joins them. */
    static Lab.Background noNetwork;

    @BeforeAll static void fillTheCachesOnlineThenCutTheNetwork() throws Exception {
        noNetwork = cutOff();
        project = copyProject(tmp.resolve("lab"));
        Path image = tmp.resolve("image");
        Lab.Result fill = Lab.run(project, Duration.ofMinutes(6), Map.of(),
                List.of("bash", "lecturer/prefill.sh", image.toString()));
        assertEquals(0, fill.exitCode(), fill::toString);
        alice = copyTree(image, tmp.resolve("alice"));
        bobCache = copyTree(image, tmp.resolve("bob-cache"));
        // Nothing in a copy may lean on the folder it was copied from (JBang records absolute paths).
        deleteTree(image);
    }

    @AfterAll static void restoreTheNetwork() {
        if (noNetwork != null) noNetwork.close();
    }

    /** Every script that the README, the workbook and the guide run with the launcher is one run offline here. */
    @Test void everyScriptTheDocumentsRunIsRunOfflineHere() throws IOException {
        // `./jbang SCRIPT`, `../jbang ../SCRIPT` (from a subfolder), with JBang's own options in between.
        Pattern launch = Pattern.compile("\\./jbang\\s+(?:--[\\w-]+\\s+|build\\s+)*(?:\\.\\./)?([\\w./-]+\\.java)");
        Set<String> inDocuments = new TreeSet<>();
        for (String document : List.of("README.md", "workbook.md", "LAB-IMAGE.md")) {
            Matcher m = launch.matcher(Files.readString(Lab.ROOT.resolve(document)));
            while (m.find()) inDocuments.add(m.group(1));
        }
        // The contributors' tests are not part of the lab: they need the network for JUnit (CONTRIBUTING.md).
        inDocuments.remove("tests/run.java");
        assertTrue(inDocuments.contains("server.java"), () -> "the pattern finds nothing: " + inDocuments);
        List<String> notHere = inDocuments.stream().filter(script -> !RUN_OFFLINE_HERE.contains(script)).toList();
        assertEquals(List.of(), notHere, "the documents run scripts that this class does not run offline");
    }

    /** The README's quick start and the workbook's programs, as a student on a lab machine runs them. */
    @Test void theReadmeAndWorkbookProgramsRunOffline() throws Exception {
        Map<String, String> env = user(alice, alice);
        Lab.Result version = offline(project, env, "./jbang", "--version");
        assertEquals(0, version.exitCode(), version::toString);
        assertEquals("0.132.1", version.all().strip(), version::toString);
        assertTrue(Files.readString(Lab.ROOT.resolve("LAB-IMAGE.md")).contains(READY_CHECK), "the guide's check moved");
        Lab.Result ready = offline(project, env, "bash", "-c", READY_CHECK);
        assertEquals(0, ready.exitCode(), ready::toString);
        assertFalse(ready.stdout().contains("NOT READY"), ready::toString);
        Lab.Result certgen = offline(project, env, "./certgen.sh");
        assertEquals(0, certgen.exitCode(), certgen::toString);

        try (var server = offlineBackground(project, env, "./jbang", "server.java", "--port", "0")) {
            String port = server.await("Listening on \\S+:(\\d+)", RUN).group(1);
            assertEcho("offline", offline(project, env, "./jbang", "client.java", "localhost", port,
                    "--message", "offline", "--quiet"));
            // The guide's proof that a machine needs no network: JBang told to fail rather than try.
            assertEcho("strictly offline", offline(project, env, "./jbang", "--offline", "client.java", "localhost",
                    port, "--message", "strictly offline", "--quiet"));
        }

        // Step 0: the plain pair, through the wiretap.
        String plainPort = String.valueOf(Peers.freePort());
        try (var plain = offlineBackground(project, env, "./jbang", "examples/PlainEchoServer.java", plainPort);
             var tap = offlineBackground(project, env, "./jbang", "examples/Wiretap.java", "--listen", "0",
                     "--to", "localhost:" + plainPort)) {
            plain.await("Listening on", RUN);
            String tapPort = tap.await("Wiretap listening on \\S+:(\\d+)", RUN).group(1);
            Lab.Result client = offlineTyping(project, env, "hello\n", "./jbang", "examples/PlainEchoClient.java",
                    "localhost", tapPort);
            assertEquals(0, client.exitCode(), client::toString);
            assertTrue(client.stdout().contains("echo: hello"), client::toString);
            tap.await("hello", RUN);
        }

        // Steps 3 and 4: a student's own edit is new to JBang's cache, so JBang compiles it, offline too.
        Path work = Files.createDirectories(project.resolve("work"));
        Files.writeString(work.resolve("TlsEchoServer.java"), Files.readString(project.resolve(
                "examples/TlsEchoServer.java")) + "// my own copy\n");
        String tlsPort = String.valueOf(Peers.freePort());
        try (var mine = offlineBackground(project, env, "./jbang", "work/TlsEchoServer.java", tlsPort)) {
            mine.await("Listening on .*\\(TLS\\)", RUN);
            Lab.Result client = offlineTyping(project, env, "hello\n", "./jbang", "examples/TlsEchoClient.java",
                    "localhost", tlsPort);
            assertEquals(0, client.exitCode(), client::toString);
            assertTrue(client.stdout().contains("echo: hello"), client::toString);
        }
        try (var solution = offlineBackground(project, env, "./jbang", "examples/TlsEchoServer.java",
                String.valueOf(Peers.freePort()))) {
            solution.await("Listening on .*\\(TLS\\)", RUN);
        }
    }

    /** The lecturer's lab check, as README.md gives it, marks the lab's own programs, all offline. */
    @Test void theLabCheckRunsOffline() throws Exception {
        Map<String, String> env = user(Files.createDirectories(tmp.resolve("lecturer")), alice);
        assertEquals(0, offline(project, env, "./certgen.sh").exitCode());   // keeps the set another test made
        Lab.Result check = offline(project, env, "./jbang", "lecturer/LabCheck.java",
                "--server", "./jbang server.java --port {port}", "--client", "./jbang client.java {host} {port} --trust {trust}");
        assertEquals(0, check.exitCode(), check::toString);
        assertTrue(check.stdout().matches("(?s).*\nscore: (\\d+)/\\1\n"), check::toString);
    }

    /** A copy anywhere, named by JBANG_DIR (and JBANG_REPO), for a user whose home holds nothing of the lab's. */
    @Test void aCopyNamedByJbangDirWorksOffline() throws Exception {
        Map<String, String> env = user(Files.createDirectories(tmp.resolve("bob")), bobCache);
        Path certs = Lab.certs(tmp.resolve("bob"));
        try (var server = offlineBackground(project, env, "./jbang", "server.java", "--port", "0",
                "--keystore", certs.resolve("server.p12").toString(),
                "--password-file", certs.resolve("server.pass").toString())) {
            String port = server.await("Listening on \\S+:(\\d+)", RUN).group(1);
            assertEcho("bob's", offline(project, env, "./jbang", "client.java", "localhost", port,
                    "--trust", certs.resolve("server.crt").toString(), "--message", "bob's", "--quiet"));
        }
    }

    /**
     * The jars for machines without JBang hold Java 17 class files, even when a newer JDK made them, and echo with
     * plain `java -jar`: the server on one JDK, the wiretap and the client on the other, both ways round.
     */
    @Test void theExportedJarsAreJava17AndEchoOnJdk17And25() throws Exception {
        for (String jar : List.of("server", "client", "Wiretap")) assertJava17(project.resolve("dist/" + jar + ".jar"));
        Path jdk17 = jdk(17), jdk25 = jdk(25);
        Map<String, String> env = user(Files.createDirectories(tmp.resolve("carol")), tmp.resolve("carol"));
        Lab.certs(project);   // or keeps the set the README's ./certgen.sh made
        for (Path[] jdks : new Path[][] {{jdk17, jdk25}, {jdk25, jdk17}}) {
            String server = jdks[0].resolve("bin/java").toString(), other = jdks[1].resolve("bin/java").toString();
            try (var echo = offlineBackground(project, env, server, "-jar", "dist/server.jar", "--port", "0")) {
                String port = echo.await("Listening on \\S+:(\\d+)", RUN).group(1);
                try (var tap = offlineBackground(project, env, other, "-jar", "dist/Wiretap.jar", "--listen", "0",
                        "--to", "localhost:" + port)) {
                    String tapPort = tap.await("Wiretap listening on \\S+:(\\d+)", RUN).group(1);
                    String message = "from " + jdks[1].getFileName() + " to " + jdks[0].getFileName();
                    assertEcho(message, offline(project, env, other, "-jar", "dist/client.jar", "localhost", tapPort,
                            "--message", message, "--quiet"));
                    tap.await("ClientHello", RUN);
                }
            }
        }
    }

    /** Controls: the namespace really has no network, for Maven and for JBang alike. */
    @Test void withoutTheFilledCachesNothingCanBeFetched() throws Exception {
        // The report, reproduced: an empty JBANG_DIR, Maven on PATH, and the launcher cannot fetch JBang.
        Path dave = Files.createDirectories(tmp.resolve("dave"));
        Map<String, String> noCopy = Map.of("HOME", dave.toString(), "JBANG_DIR", dave.resolve(".jbang").toString());
        Lab.Result first = offline(project, noCopy, "./jbang", "--version");
        assertEquals(1, first.exitCode(), first::toString);
        assertTrue(first.stderr().contains("could not download dev.jbang:jbang-cli:0.132.1"), first::toString);
        assertTrue(first.stderr().endsWith(" No network here? See LAB-IMAGE.md.\n"), first::toString);
        // And on a lab machine, which has no Maven either, the launcher points at the guide too.
        Map<String, String> noMaven = new HashMap<>(noCopy);
        noMaven.put("PATH", Lab.pathWithout("mvn", "jbang"));
        Lab.Result bare = offline(project, noMaven, "./jbang", "--version");
        assertEquals(1, bare.exitCode(), bare::toString);
        assertTrue(bare.stderr().startsWith("jbang launcher: JBang is not installed and Maven ('mvn') is not available")
                && bare.stderr().endsWith(" No network here? See LAB-IMAGE.md.\n"), bare::toString);

        // A dependency the fill did not fetch stays out of reach, with or without --offline.
        Files.writeString(project.resolve("newer.java"), """
                //DEPS info.picocli:picocli:4.7.6
                class newer { public static void main(String... args) { System.out.println("fetched"); } }
                """);
        for (String command : List.of("./jbang newer.java", "./jbang --offline newer.java")) {
            Lab.Result r = offline(project, user(alice, alice), command.split(" "));
            assertNotEquals(0, r.exitCode(), r::toString);
            assertTrue(r.stderr().contains("info.picocli:picocli:jar:4.7.6") && !r.stdout().contains("fetched"),
                    r::toString);
        }
    }

    @Test void prefillSaysHowToUseIt() {
        for (String[] args : new String[][] {{}, {"--help"}, {"one", "two"}}) {
            List<String> command = new ArrayList<>(List.of("bash", Lab.ROOT.resolve("lecturer/prefill.sh").toString()));
            command.addAll(List.of(args));
            Lab.Result r = Lab.run(tmp, RUN, Map.of(), command);
            assertEquals(2, r.exitCode(), r::toString);
            assertEquals("", r.stdout(), r::toString);
            assertEquals("prefill: usage: lecturer/prefill.sh DEST (a folder to copy into each lab user's home; see"
                    + " LAB-IMAGE.md)\n", r.stderr(), r::toString);
        }
    }

    @Test void prefillPassesShellcheck() {
        Assumptions.assumeTrue(Peers.onPath("shellcheck"), "shellcheck is not installed (CI installs it): skipped");
        Lab.Result r = Lab.run(Lab.ROOT, RUN, Map.of(), List.of("shellcheck", "lecturer/prefill.sh"));
        assertEquals(0, r.exitCode(), r::toString);
    }

    // ---- the offline machine ----

    /**
     * New network and mount namespaces, held open by a sleeping process: only loopback (so local servers work and
     * nothing else), and this machine's JBang and Maven caches covered by empty folders, so that a command can only
     * use what the user's copy holds. Making them needs root; elsewhere the class is skipped, saying why.
     */
    private static Lab.Background cutOff() throws Exception {
        Assumptions.assumeTrue(Peers.onPath("unshare") && Peers.onPath("nsenter") && Peers.onPath("ip"),
                "unshare, nsenter and ip (util-linux, iproute2) are needed to cut the network off");
        Path home = Path.of(System.getProperty("user.home"));
        List<String> command = new ArrayList<>(List.of("unshare", "--net", "--mount", "bash", "-c",
                "ip link set lo up && for d in \"$@\"; do mount -t tmpfs -o size=4m offline \"$d\"; done"
                + " && echo offline && exec sleep 1d", "bash"));
        Stream.of(home.resolve(".m2"), home.resolve(".jbang"),
                        Path.of(System.getenv().getOrDefault("JBANG_DIR", home.resolve(".jbang").toString())))
                .filter(Files::isDirectory).map(Path::toString).distinct().forEach(command::add);
        var holder = new Lab.Background(Path.of(System.getProperty("java.io.tmpdir")), Map.of(), command);
        try {
            holder.await("^offline$", Duration.ofSeconds(20));
        } catch (AssertionError e) {
            holder.close();
            Assumptions.abort("no network namespace could be made here (it needs root): " + holder.transcript());
        }
        return holder;
    }

    /**
     * A lab user's environment: HOME, the JBang folder and the Maven repository in {@code cache} (JBang's own
     * defaults when it is HOME: JBang takes ~/.m2 from the JVM's home, which here is the tests' user, so it is named),
     * and a PATH without Maven or an installed JBang.
     */
    private static Map<String, String> user(Path home, Path cache) throws IOException {
        return Map.of("HOME", home.toString(), "JBANG_DIR", cache.resolve(".jbang").toString(),
                "JBANG_REPO", cache.resolve(".m2/repository").toString(), "PATH", Lab.pathWithout("mvn", "jbang"));
    }

    private static List<String> inNamespace(Path dir, String... command) {
        List<String> all = new ArrayList<>(List.of("nsenter", "--target", String.valueOf(noNetwork.process.pid()),
                "--net", "--mount", "--wd=" + dir, "--"));
        all.addAll(List.of(command));
        return all;
    }

    private static Lab.Result offline(Path dir, Map<String, String> env, String... command) {
        return Lab.run(dir, RUN, env, inNamespace(dir, command));
    }

    /** As {@link #offline(Path, Map, String...)}, with {@code input} typed in. */
    private static Lab.Result offlineTyping(Path dir, Map<String, String> env, String input, String... command) {
        return Lab.run(dir, RUN, env, inNamespace(dir, command), input.getBytes(StandardCharsets.UTF_8));
    }

    private static Lab.Background offlineBackground(Path dir, Map<String, String> env, String... command)
            throws IOException {
        return new Lab.Background(dir, env, inNamespace(dir, command));
    }

    private static void assertEcho(String message, Lab.Result client) {
        assertEquals(0, client.exitCode(), client::toString);
        assertEquals("echo: " + message, client.stdout().strip(), client::toString);
    }

    // ---- the jars ----

    /** The lab's own classes are Java 17 class files (major version 61), and nothing in the jar needs a newer JVM. */
    private static void assertJava17(Path jar) throws IOException {
        int own = 0;
        try (var file = new JarFile(jar.toFile())) {
            for (var entry : (Iterable<JarEntry>) file.stream()::iterator) {
                if (!entry.getName().endsWith(".class")) continue;
                try (var in = new DataInputStream(file.getInputStream(entry))) {
                    assertEquals(0xCAFEBABE, in.readInt(), entry.getName());
                    in.readUnsignedShort();
                    int major = in.readUnsignedShort();
                    boolean lab = !entry.getName().contains("/");   // the lab's classes have no package
                    if (lab) own++;
                    assertTrue(lab ? major == 61 : major <= 61, () -> jar + ": " + entry + " is version " + major);
                }
            }
        }
        assertTrue(own > 0, () -> jar + " holds none of the lab's classes");
    }

    /** An installed JDK of this feature version: the one running the tests, or one under /usr/lib/jvm. */
    private static Path jdk(int feature) throws IOException {
        List<Path> candidates = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"))));
        if (Files.isDirectory(Path.of("/usr/lib/jvm"))) {
            try (var installed = Files.list(Path.of("/usr/lib/jvm"))) {
                installed.sorted().forEach(candidates::add);
            }
        }
        for (Path home : candidates) {
            Path release = home.resolve("release");
            if (!Files.isRegularFile(release) || !Files.isExecutable(home.resolve("bin/java"))) continue;
            Optional<String> version = Files.readAllLines(release).stream()
                    .filter(line -> line.startsWith("JAVA_VERSION=")).findFirst();
            if (version.isPresent() && version.get().matches("JAVA_VERSION=\"" + feature + "[.\"].*")) return home;
        }
        Assumptions.abort("no JDK " + feature + " installed (the project's machines have 17 and 25)");
        return null;
    }

    // ---- files ----

    /** What the lab image gets from the project: the programs, the launcher, the scripts. */
    private static Path copyProject(Path to) throws IOException {
        for (String name : List.of("jbang", "certgen.sh", "server.java", "client.java", "examples", "lecturer")) {
            copyTree(Lab.ROOT.resolve(name), to.resolve(name));
        }
        return to;
    }

    private static Path copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path source : paths.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) Files.createDirectories(target);
                else Files.copy(source, Files.createDirectories(target.getParent()).resolve(target.getFileName()),
                        StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return to;
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
