///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES lib/Certificates.java

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Placeholder being written: see the server issue. */
@Command(name = "server", mixinStandardHelpOptions = true, version = "1.0")
public class server implements Callable<Integer> {
    public static void main(String... args) {
        System.exit(new CommandLine(new server()).execute(args));
    }

    @Override public Integer call() {
        return 1;
    }
}
