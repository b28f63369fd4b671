///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Step 0 of the lab: a plain TCP echo client; sends each line of stdin and prints what comes back. */
public class PlainEchoClient {
    public static void main(String... args) throws IOException {
        String host = args.length > 0 ? args[0] : "localhost";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 7007;
        try (Socket socket = new Socket(host, port);
             var keyboard = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
             var toServer = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
             var fromServer = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
            System.out.println("Connected to " + host + ":" + port + " (plain TCP, no TLS)");
            for (String line; (line = keyboard.readLine()) != null; ) {
                toServer.println(line);
                String echo = fromServer.readLine();
                if (echo == null) {
                    System.out.println("The server closed the connection.");
                    return;
                }
                System.out.println("echo: " + readable(echo));
            }
        }
    }

    /** Control characters shown as dots, as in a packet capture's text column (a TLS server answers in binary). */
    static String readable(String text) {
        return text.codePoints().map(c -> Character.isISOControl(c) ? '.' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
