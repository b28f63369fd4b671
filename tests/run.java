///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.junit.jupiter:junit-jupiter:6.1.3
//DEPS org.junit.platform:junit-platform-launcher:6.1.3
//SOURCES *Test.java support/*.java ../server.java ../client.java
// Several of those classes have a main(): name the runner, so JBang never has to guess.
//MAIN run
// Some tests hold non-ASCII text: compile them as UTF-8 whatever the locale (JDK 17 otherwise follows it).
//JAVAC_OPTIONS -encoding UTF-8

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/** Runs every test in tests/ (or those whose class name matches the arguments) and exits non-zero unless all passed. */
public class run {
    public static void main(String... classNamePatterns) throws Exception {
        Path compiledTests = Path.of(run.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClasspathRoots(Set.of(compiledTests)))
                .filters(includeClassNamePatterns(classNamePatterns.length == 0 ? new String[] {".*Test"} : classNamePatterns))
                .configurationParameter("junit.jupiter.execution.timeout.default", "5 m")
                .build();

        var summary = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, summary, new ProgressPrinter());

        var s = summary.getSummary();
        long failed = s.getTotalFailureCount();
        long skipped = s.getTestsSkippedCount() + s.getTestsAbortedCount();
        System.out.println();
        System.out.printf("%d passed, %d failed, %d skipped%n", s.getTestsSucceededCount(), failed, skipped);
        if (s.getTestsFoundCount() == 0) System.out.println("No test ran: that counts as a failure.");
        System.exit(failed == 0 && s.getTestsFoundCount() > 0 ? 0 : 1);
    }

    /**
     * One line per finished test, with its time and the failure's message (and where it was raised) right under it;
     * one line per finished class with its time, to see what keeps the suite long.
     */
    static class ProgressPrinter implements TestExecutionListener {
        private final Map<String, Long> startedNanos = new ConcurrentHashMap<>();

        @Override public void executionStarted(TestIdentifier test) {
            startedNanos.put(test.getUniqueId(), System.nanoTime());
        }

        @Override public void executionSkipped(TestIdentifier test, String reason) {
            System.out.printf("SKIP %s: %s%n", name(test), reason);
        }

        @Override public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            Long started = startedNanos.remove(test.getUniqueId());
            double seconds = started == null ? 0 : (System.nanoTime() - started) / 1e9;
            if (!test.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                if (test.getSource().filter(ClassSource.class::isInstance).isPresent()) {
                    System.out.printf(Locale.ROOT, "---- %s: %.0f s%n", test.getDisplayName(), seconds);
                }
                return;
            }
            String status = switch (result.getStatus()) {
                case SUCCESSFUL -> "ok  ";
                case ABORTED -> "SKIP";
                case FAILED -> "FAIL";
            };
            System.out.printf(Locale.ROOT, "%s %s (%.1f s)%n", status, name(test), seconds);
            result.getThrowable().ifPresent(t -> {
                System.out.println("     " + String.valueOf(t).replace("\n", "\n     "));
                if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                    for (StackTraceElement frame : t.getStackTrace()) {
                        if (frame.getClassName().endsWith("Test") || frame.getClassName().contains("Test$")) {
                            System.out.println("     at " + frame);
                            break;
                        }
                    }
                }
            });
        }

        private static String name(TestIdentifier test) {
            String parent = test.getParentId().map(id -> id.replaceAll(".*\\[class:([^\\]]*)\\].*", "$1")).orElse("");
            return (parent.isEmpty() || parent.contains("[") ? "" : parent + " > ") + test.getDisplayName();
        }
    }
}
