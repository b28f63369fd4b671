///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * The benchmark's baseline: the TLS echo server a competent Java programmer writes in a few dozen lines (JSSE
 * SSLServerSocket, a cached thread pool, a byte-stream echo through a fixed buffer, TCP_NODELAY on every accepted
 * socket, as any echo or request/response server needs: without it Nagle's algorithm holds a small echo back until
 * the peer's delayed ACK, about 40 ms on Linux). Otherwise untuned: it is the bar to beat. It says once, for the first
 * client, that TCP_NODELAY is on, so a test can check that the comparison stays fair.
 * Usage: RefJsseServer [--port N] [--keystore certs/server.p12] [--password-file certs/server.pass]
 */
public class RefJsseServer {
    public static void main(String... args) throws Exception {
        int port = 8443;
        Path keystore = Path.of("certs/server.p12");
        Path passwordFile = Path.of("certs/server.pass");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--keystore" -> keystore = Path.of(args[i + 1]);
                case "--password-file" -> passwordFile = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }

        // The server's key and certificate, from the PKCS12 keystore certgen.sh makes.
        char[] password = Files.readString(passwordFile).strip().toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            keys.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);

        // Wrap the listening socket; each accepted client is served (handshake included) on a pool thread.
        var server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(port, 50, InetAddress.getLoopbackAddress());
        server.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        System.out.println("Listening on 127.0.0.1:" + server.getLocalPort() + " (TLS, JSSE reference)");
        ExecutorService pool = Executors.newCachedThreadPool();
        for (boolean first = true; ; first = false) {
            Socket client = server.accept();
            client.setTcpNoDelay(true);
            if (first) System.out.println("First client: TCP_NODELAY=" + client.getTcpNoDelay());
            pool.execute(() -> echo(client));
        }
    }

    static void echo(Socket client) {
        try (client; InputStream in = client.getInputStream(); OutputStream out = client.getOutputStream()) {
            byte[] buffer = new byte[16 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
            }
        } catch (IOException clientGone) {
            // A reset or failed handshake ends this client only.
        }
    }
}
