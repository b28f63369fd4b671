///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES lib/Certificates.java

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Placeholder being written: see the client issue. */
@Command(name = "client", mixinStandardHelpOptions = true, version = "1.0")
public class client implements Callable<Integer> {
    public static void main(String... args) {
        System.exit(new CommandLine(new client()).execute(args));
    }

    @Override public Integer call() {
        return 1;
    }
}
